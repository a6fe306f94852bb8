"""Screenshots of the main pages for the README: ``.venv/bin/python scripts/screenshots.py``.

Builds a demo workspace in a temporary directory, serves it with ``kith serve``, signs in
through the form in Debian's Chromium (driven by Playwright) and writes PNGs to
docs/screenshots/ at laptop size, plus the home and record pages at phone size.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
KITH = str(Path(sys.executable).parent / "kith")
PASSWORD = "screenshots only 2026"
FIND = """
import json, sys, kith
kith.open(sys.argv[1])
from django.db.models import Count
from kith.records.models import Record
from kith.relationships.selectors import team_ids
from kith.server.serve import demo_email
team = team_ids()
def busiest(t, rel):
    qs = Record.objects.filter(type_id=t).exclude(pk__in=team).annotate(n=Count(rel))
    return qs.order_by("-n")[0]
org, person = busiest("organization", "linked_interactions"), busiest("person", "participations")
print(json.dumps({"org": org.id, "person": person.id, "email": demo_email("demo@kith.local")}))
"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="kith-shots-"))
    db = f"sqlite:///{home / 'demo.db'}"
    env = {**os.environ, "KITH_HOME": str(home), "KITH_RATE_LIMIT": "0"}
    env.pop("KITH_DB", None)

    def kith(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [KITH, "--db", db, *args], env=env, input=stdin, text=True, capture_output=True
        )
        if done.returncode:
            raise SystemExit(f"kith {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    kith("demo")
    ids = json.loads(
        subprocess.run(
            [sys.executable, "-c", FIND, db], env=env, text=True, capture_output=True, check=True
        ).stdout
    )
    kith("user", "add", ids["email"], "--role", "admin", "--password-stdin", stdin=PASSWORD)
    port = 8731
    server = subprocess.Popen(
        [KITH, "--db", db, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        exe = shutil.which("chromium")
        if exe is None:
            raise SystemExit("chromium is not installed: scripts/install-browser")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=exe,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                ],
            )
            laptop = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=base)
            page = laptop.new_page()
            page.goto("/login")
            page.screenshot(path=str(OUT / "sign-in.png"))
            page.get_by_label("Email").fill(ids["email"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/")
            shots = [
                ("home.png", "/"),
                ("people.png", "/people"),
                ("organisation.png", f"/records/{ids['org']}"),
                ("person.png", f"/records/{ids['person']}"),
                ("map.png", f"/records/{ids['person']}/map"),
                ("import.png", "/import"),
                ("duplicates.png", "/duplicates"),
                ("admin.png", "/admin"),
                ("tasks.png", "/tasks"),
                ("rules.png", "/rules"),
                ("plans.png", "/plans"),
                ("next.png", "/next?all=1"),
                ("at-risk.png", "/at-risk"),
                ("best.png", "/best?type=organization"),
            ]
            for name, path in shots:
                page.goto(path)
                page.wait_for_load_state("networkidle")
                if name == "map.png":
                    page.wait_for_timeout(1500)  # let the layout settle
                page.screenshot(path=str(OUT / name), full_page=name != "map.png")
                print("wrote", OUT / name)
            # the command palette over the person's page, with a search typed
            page.goto(f"/records/{ids['person']}")
            page.wait_for_load_state("networkidle")
            page.keyboard.press("Control+k")
            page.keyboard.type(page.locator("h1").inner_text().split()[0])
            page.locator("#palette-results a.palette-item").first.wait_for()
            page.wait_for_timeout(400)
            page.screenshot(path=str(OUT / "palette.png"))
            print("wrote", OUT / "palette.png")
            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                base_url=base,
                storage_state=laptop.storage_state(),
            )
            mobile = phone.new_page()
            for name, path in [
                ("phone-home.png", "/"),
                ("phone-person.png", f"/records/{ids['person']}"),
            ]:
                mobile.goto(path)
                mobile.wait_for_load_state("networkidle")
                mobile.screenshot(path=str(OUT / name))
                print("wrote", OUT / name)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
