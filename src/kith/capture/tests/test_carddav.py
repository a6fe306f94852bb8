"""Kith's CardDAV address book read and written by a real CardDAV client (vdirsyncer)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user, create_token, set_private
from kith.core.models import Change
from kith.records.models import ContactPoint, Record
from kith.records.services import delete_record, update_record
from kith.testing import make_org, make_person

VDIRSYNCER = shutil.which("vdirsyncer") or str(Path(sys.executable).parent / "vdirsyncer")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world() -> dict[str, object]:
    add_user(email="ann@our.test", role="member", password="correct horse battery")
    add_user(email="carl@our.test", role="member", password="correct horse battery")
    _, ann_token = create_token(email="ann@our.test")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme, role="CTO")
    bob = make_person("Bob Roe", email="bob@beta.test")
    hidden = make_person("Hidden Hal", email="hal@x.test")
    set_private(record=hidden, private=True, user=get_user("carl@our.test"))
    return {"token": ann_token, "jane": jane, "bob": bob, "hidden": hidden}


def _vdirsyncer(tmp: Path, url: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    if not os.path.exists(VDIRSYNCER):
        if os.environ.get("CI") == "true":
            pytest.fail("vdirsyncer is not installed (requirements.lock)")
        pytest.skip("vdirsyncer is not installed")
    (tmp / "contacts").mkdir(exist_ok=True)
    config = tmp / "config"
    config.write_text(
        f'[general]\nstatus_path = "{tmp}/status/"\n\n'
        '[pair book]\na = "kith"\nb = "phone"\ncollections = null\n'
        "conflict_resolution = null\n\n"
        f'[storage kith]\ntype = "carddav"\nurl = "{url}"\n'
        f'username = "ann@our.test"\npassword = "{token}"\n\n'
        f'[storage phone]\ntype = "filesystem"\npath = "{tmp}/contacts/"\nfileext = ".vcf"\n'
    )
    if not (tmp / "status").exists():
        found = subprocess.run([VDIRSYNCER, "-c", str(config), "discover"], capture_output=True,
                               text=True, input="y\ny\n", timeout=120)  # fmt: skip
        assert found.returncode == 0, found.stderr
    return subprocess.run([VDIRSYNCER, "-c", str(config), *args], capture_output=True,
                          text=True, input="y\n", timeout=120)  # fmt: skip


def test_a_real_client_syncs_the_book_and_its_edits_come_back(live_server, world, tmp_path):
    url = f"{live_server.url}/dav/ann@our.test/contacts/"
    token = str(world["token"])
    run = _vdirsyncer(tmp_path, url, token, "sync")
    assert run.returncode == 0, run.stderr
    files = {p.stem: p.read_text() for p in (tmp_path / "contacts").glob("*.vcf")}
    jane, hidden = world["jane"], world["hidden"]
    assert jane.id in files and world["bob"].id in files  # type: ignore[attr-defined]
    assert hidden.id not in files  # type: ignore[attr-defined]  # Carl's private person
    assert "FN:Jane Doe" in files[jane.id] and "ORG:Acme" in files[jane.id]  # type: ignore[attr-defined]
    assert "TITLE:CTO" in files[jane.id]  # type: ignore[attr-defined]

    # edited on the phone: the name and a new number come back with history
    card = tmp_path / "contacts" / f"{jane.id}.vcf"  # type: ignore[attr-defined]
    card.write_text(card.read_text().replace("FN:Jane Doe", "FN:Jane Q. Doe").replace(
        "END:VCARD", "TEL:+44 20 7946 0000\r\nEND:VCARD"))  # fmt: skip
    run = _vdirsyncer(tmp_path, url, token, "sync")
    assert run.returncode == 0, run.stderr
    saved = Record.objects.get(pk=jane.id)  # type: ignore[attr-defined]
    assert saved.name == "Jane Q. Doe"
    assert ContactPoint.objects.filter(record=saved, kind="phone").exists()
    change = Change.objects.get(entity_id=saved.id, field="name")
    assert change.new == "Jane Q. Doe" and change.actor == "ann@our.test"

    # changed in Kith: the phone gets it at its next sync
    update_record(ref=world["bob"].id, values={"name": "Robert Roe"})  # type: ignore[attr-defined]
    run = _vdirsyncer(tmp_path, url, token, "sync")
    assert run.returncode == 0, run.stderr
    bob_card = (tmp_path / "contacts" / f"{world['bob'].id}.vcf").read_text()  # type: ignore[attr-defined]
    assert "FN:Robert Roe" in bob_card


def test_a_stale_etag_is_412_and_changes_nothing(live_server, world):
    auth = ("ann@our.test", str(world["token"]))
    jane = world["jane"]
    href = f"{live_server.url}/dav/ann@our.test/contacts/{jane.id}.vcf"  # type: ignore[attr-defined]
    got = requests.get(href, auth=auth, timeout=10)
    assert got.status_code == 200
    etag = got.headers["ETag"]
    edited = got.text.replace("FN:Jane Doe", "FN:Phone Jane")
    update_record(ref=jane.id, values={"name": "Kith Jane"})  # type: ignore[attr-defined]
    put = requests.put(href, data=edited.encode(), auth=auth, timeout=10,
                       headers={"If-Match": etag, "Content-Type": "text/vcard"})  # fmt: skip
    assert put.status_code == 412 and "changed since" in put.text
    assert Record.objects.get(pk=jane.id).name == "Kith Jane"  # type: ignore[attr-defined]
    no_etag = requests.put(href, data=edited.encode(), auth=auth, timeout=10)
    assert no_etag.status_code == 412
    fresh = requests.get(href, auth=auth, timeout=10)
    put = requests.put(href, data=fresh.text.replace("FN:Kith Jane", "FN:Phone Jane").encode(),
                       auth=auth, timeout=10, headers={"If-Match": fresh.headers["ETag"]})  # fmt: skip
    assert put.status_code == 204 and put.headers["ETag"] != fresh.headers["ETag"]
    assert Record.objects.get(pk=jane.id).name == "Phone Jane"  # type: ignore[attr-defined]


def test_discovery_sync_tokens_and_privacy(live_server, world):
    auth = ("ann@our.test", str(world["token"]))
    well = requests.get(f"{live_server.url}/.well-known/carddav", auth=auth, timeout=10,
                        allow_redirects=False)  # fmt: skip
    assert well.status_code in (301, 302) and well.headers["Location"].endswith("/dav/")
    book = f"{live_server.url}/dav/ann@our.test/contacts/"
    assert requests.request("PROPFIND", book, timeout=10).status_code == 401
    bad = ("ann@our.test", "not-a-token")
    assert requests.request("PROPFIND", book, auth=bad, timeout=10).status_code == 401
    other = requests.request("PROPFIND", f"{live_server.url}/dav/carl@our.test/", auth=auth,
                             timeout=10)  # fmt: skip
    assert other.status_code == 404
    props = requests.request("PROPFIND", book, auth=auth, headers={"Depth": "0"}, timeout=10)
    assert props.status_code == 207 and "kith-dav:" in props.text
    token = props.text.split("kith-dav:")[1].split("<")[0]
    body = (
        '<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>'
        f"kith-dav:{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/>"
        "</d:prop></d:sync-collection>"
    )
    update_record(ref=world["bob"].id, values={"name": "Bobby"})  # type: ignore[attr-defined]
    delete_record(ref=world["jane"].id)  # type: ignore[attr-defined]
    update_record(ref=world["hidden"].id, values={"name": "Still Hidden"})  # type: ignore[attr-defined]
    sync = requests.request("REPORT", book, data=body, auth=auth, timeout=10)
    assert sync.status_code == 207
    assert f"{world['bob'].id}.vcf" in sync.text  # type: ignore[attr-defined]
    # read as XML: the prefix the DAV: namespace gets is the process's ElementTree registry's
    # (Radicale, loaded by other tests, registers it as the default namespace)
    gone = {
        r.findtext("{DAV:}href", "").rsplit("/", 1)[-1]: r.findtext("{DAV:}status", "")
        for r in ET.fromstring(sync.content).iter("{DAV:}response")
    }
    assert "404" in gone[f"{world['jane'].id}.vcf"]  # type: ignore[attr-defined]
    assert world["hidden"].id not in sync.text  # type: ignore[attr-defined]  # never even named
