"""Routers over intelligence, network, dedupe and imports: answers, and no private leaks."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kith.records.models import Record
from kith.server.tests.conftest import Caller
from kith.testing import load_contact, make_home, make_person, relate


def _world(member: Caller, owner: Caller) -> dict[str, str]:
    home = make_home()
    tina = make_person("Tina Team", org=home)
    _, acme = member.call("POST", "/records", {"type": "org", "name": "Acme"})
    _, sam = member.call("POST", "/records", {"name": "Sam Shared"})
    _, pat = owner.call("POST", "/records", {"name": "Pat Private", "private": True})

    relate(tina, "knows", Record.objects.get(pk=pat["id"]))
    relate(Record.objects.get(pk=pat["id"]), "works_at", Record.objects.get(pk=acme["id"]))
    relate(tina, "knows", Record.objects.get(pk=sam["id"]))
    relate(Record.objects.get(pk=sam["id"]), "works_at", Record.objects.get(pk=acme["id"]))
    return {"tina": tina.id, "acme": acme["id"], "sam": sam["id"], "pat": pat["id"]}


def test_paths_and_maps_hide_private_records(member: Caller, owner: Caller, admin: Caller) -> None:
    ids = _world(member, owner)
    code, found = member.call("GET", "/paths", to=ids["acme"], max_hops=3)
    assert code == 200 and ids["sam"] in str(found)
    assert ids["pat"] not in str(found)
    code, seen = admin.call("GET", "/paths", to=ids["acme"], max_hops=3)
    assert ids["pat"] in str(seen)
    code, ego = member.call("GET", f"/records/{ids['acme']}/map")
    assert code == 200 and ids["sam"] in str(ego) and ids["pat"] not in str(ego)
    code, both = member.call("GET", "/mutual", a=ids["tina"], b=ids["acme"])
    assert code == 200 and ids["pat"] not in str(both)
    assert member.call("GET", "/paths", to=ids["pat"])[0] == 404
    code, err = member.call("GET", "/paths", to=ids["acme"], max_hops=99)
    assert code == 422 and err["field"] == "max_hops"


def test_health_best_and_at_risk(member: Caller, owner: Caller) -> None:
    ids = _world(member, owner)
    member.call(
        "POST",
        "/interactions",
        {"kind": "meeting", "participants": [{"ref": ids["tina"]}, {"ref": ids["sam"]}]},
    )
    code, h = member.call("GET", f"/records/{ids['acme']}/health")
    assert code == 200 and "score" in str(h)
    code, best = member.call("GET", "/best", limit=5)
    assert code == 200 and isinstance(best, list) and ids["pat"] not in str(best)
    code, risk = member.call("GET", "/at-risk")
    assert code == 200 and ids["pat"] not in str(risk)
    code, tie = member.call("GET", "/strength", a=ids["tina"], b=ids["sam"])
    assert code == 200 and tie
    assert member.call("GET", "/strength", a=ids["tina"], b=ids["pat"])[0] == 404


def test_duplicates_merge_and_undo(member: Caller, owner: Caller, admin: Caller) -> None:
    _, a = member.call("POST", "/records", {"name": "Dana Double", "emails": ["dana@d.test"]})
    # the API refuses an email another record has (409); a bulk load can still leave twins
    code, err = member.call("POST", "/records", {"name": "Dana Double", "emails": ["dana@d.test"]})
    assert code == 409 and err["field"] == "email" and a["id"] in err["message"]
    _, b = member.call("POST", "/records", {"name": "Dana Double"})
    _, c = owner.call("POST", "/records", {"name": "Dana Double", "private": True})
    for twin in (b, c):
        load_contact(Record.objects.get(pk=twin["id"]), "email", "dana@d.test")
    code, dupes = member.call("GET", "/duplicates")
    assert code == 200 and a["id"] in str(dupes) and b["id"] in str(dupes)
    assert c["id"] not in str(dupes)
    code, theirs = owner.call("GET", "/duplicates")
    assert code == 200 and c["id"] in str(theirs)
    code, _ = member.call("POST", "/merges", {"keep": a["id"], "other": b["id"]})
    assert code == 200
    assert member.call("GET", f"/records/{b['id']}")[1]["merged_into"] == a["id"]
    code, listed = member.call("GET", "/merges", record=a["id"])
    assert code == 200 and len(listed) == 1
    # one policy with the web: another member may not undo it, its author or an admin may
    assert owner.call("POST", f"/merges/{b['id']}/undo")[0] == 403
    assert member.call("POST", f"/merges/{b['id']}/undo")[0] == 200
    assert member.call("GET", f"/records/{b['id']}")[1]["merged_into"] is None
    assert member.call("POST", "/merges", {"keep": a["id"], "other": b["id"]})[0] == 200
    assert admin.call("POST", f"/merges/{b['id']}/undo")[0] == 200


def test_import_upload_and_audited_export(member: Caller, admin: Caller) -> None:
    csv = b"name,email\nIvy Import,ivy@imp.test\nJon Import,jon@imp.test\n"
    resp = Client().post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("people.csv", csv)},
        HTTP_AUTHORIZATION=f"Bearer {member.token}",
    )
    assert resp.status_code == 200, resp.content
    assert member.call("GET", "/records/ivy@imp.test")[0] == 200
    resp = Client().post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("bad.csv", b"\xff\xfe\x00garbage")},
        HTTP_AUTHORIZATION=f"Bearer {member.token}",
    )
    assert resp.status_code in (400, 422) and resp.json()["field"]
    mixed = b"name,email\nKim Import,kim@imp.test\nLou Import,not-an-email\n"
    resp = Client().post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("mixed.csv", mixed), "skip_bad": "true"},
        HTTP_AUTHORIZATION=f"Bearer {member.token}",
    )
    report = resp.json()
    assert resp.status_code == 200 and report["imported"] == 1 and report["bad_count"] == 1
    assert report["bad"][0]["where"] and "/tmp" not in resp.content.decode()  # no server path
    assert member.call("GET", "/export")[0] == 403
    code, text = admin.call("GET", "/export", format="csv")
    assert code == 200 and "Ivy Import" in text
    code, err = admin.call("GET", "/export", format="pdf")
    assert code == 422 and err["field"] == "format"
    _, events = admin.call("GET", "/audit", action="export")
    assert events["items"][0]["detail"]["records"] == 3
    assert admin.call("GET", "/audit", action="import")[1]["items"]
