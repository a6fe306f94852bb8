"""JSON API for imports: upload a file to import, download an export (audited)."""

from __future__ import annotations

import io
import os
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.core.errors import ValidationError
from kith.imports.jobs import export_audited, import_audited
from kith.imports.schemas import ImportReportOut
from kith.imports.scratch import scratch
from kith.server.auth import acting, client_ip, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["imports"])
MAX_UPLOAD = 50 * 1024 * 1024
EXPORT_TYPES = {"csv": "text/csv", "json": "application/json", "vcard": "text/vcard"}
EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/json": {  # {"format": "kith", "version": 1, "records": [...]}
        "schema": {"type": "object", "properties": {"records": {"type": "array"}}}
    },
    "text/vcard": {"schema": {"type": "string"}},
}


class ImportForm(Schema):
    format: str | None = Field(None, max_length=20, description="Detected when omitted")
    dry_run: bool = False
    skip_bad: bool = False


@router.post("/imports", response={200: ImportReportOut, **WRITE_ERRORS})
def import_upload(request: HttpRequest, file: File[UploadedFile], form: Form[ImportForm]) -> Any:
    """Import an uploaded contacts/calendar/mail file; bad rows fail it all unless skip_bad
    (then the report lists them: no file of them is kept on the server)."""
    with acting(request) as user:
        if file.size is not None and file.size > MAX_UPLOAD:
            raise ValidationError("file: larger than 50 MB", field="file")
        name = os.path.basename(file.name or "upload")[:100] or "upload"
        with scratch("upload-") as tmp:
            path = os.path.join(tmp, name)
            with open(path, "wb") as out:
                for chunk in file.chunks():
                    out.write(chunk)
            report = import_audited(
                viewer=viewer_of(user),
                path=path,
                via="api",
                filename=name,
                fmt=form.format,
                dry_run=form.dry_run,
                skip_bad=form.skip_bad,
                actor=user.username,
                ip=client_ip(request),
            )
    report.pop("reject_file", None)  # it was in the temporary directory, gone with it
    return report


@router.get(
    "/export",
    response={200: str, **READ_ERRORS},
    # int 200, as ninja keys its own responses: a "200" string would list the status twice
    openapi_extra={"responses": {200: {"description": "The export", "content": EXPORT_CONTENT}}},
)
def export(request: HttpRequest, format: str = "csv", type: str | None = None) -> Any:
    """Export every record (admins, who see private records too); audited."""
    user = require(request, "admin")
    if format not in EXPORT_TYPES:
        raise ValidationError(
            f"format: {format!r} is not one of {', '.join(EXPORT_TYPES)}", field="format"
        )
    out = io.StringIO()
    export_audited(
        viewer=viewer_of(user),
        out=out,
        fmt=format,
        type_key=type,
        via="api",
        actor=user.username,
        ip=client_ip(request),
    )
    return HttpResponse(out.getvalue(), content_type=EXPORT_TYPES[format])
