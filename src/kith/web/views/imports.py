"""Pages: import a file (upload, preview and mapping, progress, report of rejected rows)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import KithError
from kith.imports import jobs
from kith.imports.models import ImportJob
from kith.imports.selectors import (
    get_import_job,
    import_check,
    import_jobs,
    import_preview,
    import_progress,
    import_rejects,
    import_report,
    import_status,
)
from kith.server.auth import client_ip
from kith.web.views.base import (
    at_least,
    error_page,
    form_errors,
    notify,
    page,
    signed_in,
    viewer,
)

FORMAT_CHOICES = [
    ("", "Detect it"),
    ("csv", "CSV"),
    ("google", "Google Contacts CSV"),
    ("outlook", "Outlook CSV"),
    ("linkedin", "LinkedIn connections CSV"),
    ("hubspot", "HubSpot CSV"),
    ("salesforce", "Salesforce CSV"),
    ("xlsx", "Excel workbook (.xlsx)"),
    ("vcard", "vCard (.vcf)"),
    ("ics", "iCalendar (.ics)"),
    ("mbox", "Mailbox (.mbox)"),
    ("eml", "Email message (.eml)"),
    ("json", "Kith JSON export"),
]
CSV_FORMATS = [("csv", "Detect the preset"), *FORMAT_CHOICES[2:7]]


def _job_url(job_id: str) -> str:
    return reverse("import-job", args=[job_id])


def _upload_page(
    request: HttpRequest, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:

    context = {
        "jobs": import_jobs(viewer(request)),
        "errors": errors or {},
        "formats": FORMAT_CHOICES,
        "chosen_format": request.POST.get("format", ""),
        "max_mb": jobs.IMPORT_MAX_BYTES // (1024 * 1024),
    }
    return page(request, "web/import.html", context, status=status)


@require_http_methods(["GET", "POST"])
@signed_in()
def upload(request: HttpRequest) -> HttpResponse:

    if request.method == "GET":
        return _upload_page(request)
    if not at_least(request, "member"):
        return error_page(request, 403, "Not allowed", "Importing needs the member role.")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > jobs.IMPORT_MAX_BYTES + 1024 * 1024:
        limit = jobs.IMPORT_MAX_BYTES // (1024 * 1024)
        message = f"That file is larger than {limit} MB, the most Kith takes in one upload."
        return _upload_page(request, {"file": message}, status=413)
    upload_file = request.FILES.get("file")
    if upload_file is None:
        return _upload_page(request, {"file": "Choose a file to import."}, status=400)
    try:
        job = jobs.create_import_job(
            viewer=viewer(request),
            filename=upload_file.name or "upload",
            content=upload_file.read(jobs.IMPORT_MAX_BYTES + 1),
            fmt=request.POST.get("format", "")[:20],
        )
    except KithError as exc:
        errors = form_errors(exc)
        field = "format" if "format" in errors else "file"
        status = 413 if "MB" in exc.message and "most" in exc.message else 400
        return _upload_page(request, {field: exc.message}, status=status)
    return HttpResponseRedirect(_job_url(job.pk))


def _job_context(request: HttpRequest, job: ImportJob) -> dict[str, object]:

    status = import_status(job)
    context: dict[str, object] = {"job": job, "status": status, "csv_formats": CSV_FORMATS}
    if status == "preview":
        try:
            context["preview"] = import_preview(job)
        except KithError as exc:
            context["preview_error"] = exc.message
    elif status == "running":
        context["progress"] = import_progress(job)
    else:
        context["report"] = import_report(viewer(request), job)
    return context


@require_GET
@signed_in()
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:

    job = get_import_job(viewer(request), job_id)
    return page(request, "web/import_job.html", _job_context(request, job))


def _options(request: HttpRequest) -> dict[int, str]:
    columns: dict[int, str] = {}
    for key in request.POST:
        if key.startswith("map-") and key[4:].isdigit() and len(key) < 10:
            columns[int(key[4:])] = request.POST.get(key, "")[:80]
    return columns


@require_POST
@signed_in("member")
def options(request: HttpRequest, job_id: str) -> HttpResponse:
    """Save the mapping and options; with ``action=start``, start the import too."""

    job = get_import_job(viewer(request), job_id)
    try:
        jobs.set_import_options(
            job=job,
            fmt=request.POST.get("format", "")[:20],
            columns=_options(request),
            skip_bad=request.POST.get("skip_bad") == "on",
            bodies=request.POST.get("bodies") == "on",
        )
        if request.POST.get("action") == "start":
            jobs.start_import_job(job=job, ip=_ip(request))
            jobs.launch_import_job(job.pk)
    except KithError as exc:
        context = _job_context(request, get_import_job(viewer(request), job_id))
        context["errors"] = form_errors(exc)
        return page(request, "web/import_job.html", context, status=400)
    return HttpResponseRedirect(_job_url(job.pk))


def _ip(request: HttpRequest) -> str:
    return client_ip(request)


@require_POST
@signed_in("member")
def start(request: HttpRequest, job_id: str) -> HttpResponse:

    job = get_import_job(viewer(request), job_id)
    jobs.start_import_job(job=job, ip=_ip(request))
    jobs.launch_import_job(job.pk)
    return HttpResponseRedirect(_job_url(job.pk))


@require_GET
@signed_in()
def check(request: HttpRequest, job_id: str) -> HttpResponse:
    """The check of a job in preview (its rows validated, nothing written), as a fragment."""

    job = get_import_job(viewer(request), job_id)
    context = {"job": job, "check": import_check(job)}
    return page(request, "web/_import_check.html", context)


@require_GET
@signed_in()
def progress(request: HttpRequest, job_id: str) -> HttpResponse:
    """The progress bar while the job runs, then its report (the page polls this)."""

    job = get_import_job(viewer(request), job_id)
    context = {**_job_context(request, job), "oob": True}  # the result updates the status tag
    template = "web/_import_progress.html" if "progress" in context else "web/_import_result.html"
    return page(request, template, context)


@require_POST
@signed_in("member")
def retry(request: HttpRequest, job_id: str) -> HttpResponse:

    jobs.reopen_import_job(job=get_import_job(viewer(request), job_id))
    return HttpResponseRedirect(_job_url(job_id))


@require_POST
@signed_in("member")
def discard(request: HttpRequest, job_id: str) -> HttpResponse:

    job = get_import_job(viewer(request), job_id)
    jobs.discard_import_job(job=job)
    notify(request, f"Discarded {job.filename}.")
    return HttpResponseRedirect(reverse("import"))


@require_GET
@signed_in()
def rejects(request: HttpRequest, job_id: str) -> HttpResponse:

    name, data, ctype = import_rejects(get_import_job(viewer(request), job_id))
    response = HttpResponse(data, content_type=ctype)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


urlpatterns = [
    path("import", upload, name="import"),
    path("import/<str:job_id>", job_page, name="import-job"),
    path("import/<str:job_id>/options", options, name="import-options"),
    path("import/<str:job_id>/start", start, name="import-start"),
    path("import/<str:job_id>/check", check, name="import-check"),
    path("import/<str:job_id>/progress", progress, name="import-progress"),
    path("import/<str:job_id>/retry", retry, name="import-retry"),
    path("import/<str:job_id>/discard", discard, name="import-discard"),
    path("import/<str:job_id>/rejects", rejects, name="import-rejects"),
]
