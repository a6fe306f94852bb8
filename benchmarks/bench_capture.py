"""Mail capture benchmark: an IMAP first sync (headers only) against a real Dovecot on
loopback, beside ``kith import`` of the very same messages as an mbox, in the same run.

Both run in a subprocess on a fresh SQLite workspace, so peak memory (VmHWM) is their own.
The messages are bench_import's mbox (threads, our domain, company and personal domains),
spread over four folders of the mailbox. Then an incremental sync with nothing new is timed
(goal: under 1 s per folder). Peak memory of each is printed: the sync holds one batch
(2,000 messages) at a time. Goals (issue 19): a first sync of 100,000 messages at >= 2,000
messages/s headers-only.
Options: ``--messages N`` (default 100,000; also ``--messages=N``), ``--rounds N`` (the
import and the sync alternated N times, each into a fresh workspace; default 1).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_import import KITH, run_import, write_mbox
from benchmarks.memory import PEAK_MB_SOURCE

FOLDERS = ["INBOX", "Sent", "Archive", "Clients"]
KEY = "0pP7zZ1m8mF3v7bQe2y5nWcYxJ6d9sA4kR1tU0hG3iE="


def split_mbox(path: Path) -> list[bytes]:
    """The messages of bench_import's mbox, without their ``From `` lines."""
    out: list[bytes] = []
    current: list[bytes] = []
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b"From ") and (not current or current[-1] == b"\n"):
                if current:
                    out.append(b"".join(current).rstrip(b"\n") + b"\n")
                current = []
                continue
            current.append(line)
    if current:
        out.append(b"".join(current).rstrip(b"\n") + b"\n")
    return out


def run_kith(db: Path, *args: str, stdin: str = "") -> tuple[float, float, str]:
    """A kith command in a subprocess: (seconds, peak MB, stdout)."""
    code = PEAK_MB_SOURCE + (
        "import sys, time\n"
        "from kith.cli.main import run\n"
        "t = time.perf_counter(); rc = run(sys.argv[1:]); dt = time.perf_counter() - t\n"
        "sys.stderr.write(f'\\nTIME {dt} PEAK_MB {peak_mb()}\\n')\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "KITH_DB": f"sqlite:///{db}", "KITH_CAPTURE_KEY": KEY}
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, input=stdin,
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"kith {' '.join(args)} failed: {proc.stderr[-2000:]}")
    tail = proc.stderr.strip().splitlines()[-1].split()
    return float(tail[1]), float(tail[3]), proc.stdout


def main(argv: list[str]) -> None:
    from kith.capture.tests.servers import start_dovecot  # the tests' real Dovecot

    messages, rounds = 100_000, 1
    args = [part for arg in argv for part in arg.split("=", 1)]
    for flag, value in itertools.pairwise(args):
        if flag == "--messages":
            messages = int(value)
        elif flag == "--rounds":
            rounds = int(value)
    base = Path(tempfile.mkdtemp(prefix="kith-bench-capture-"))
    os.chmod(base, 0o755)
    server = start_dovecot(base)
    try:
        mbox = base / "box.mbox"
        write_mbox(mbox, messages)
        raws = split_mbox(mbox)
        assert len(raws) == messages, (len(raws), messages)
        for i, folder in enumerate(FOLDERS):
            server.deliver("bench", raws[i :: len(FOLDERS)], folder=folder)

        db = base / "imap.db"
        for n in range(1, rounds + 1):  # alternated: a shared machine's load hits both
            db = base / f"imap{n}.db"
            secs, peak, report, _ = run_import(base / f"mbox{n}.db", mbox)
            print(
                f"round {n}: mbox import of {messages:,} messages: {secs:.1f} s, "
                f"{messages / secs:,.0f} msg/s, peak {peak:,.0f} MB"
            )
            env = {**os.environ, "KITH_DB": f"sqlite:///{db}"}
            subprocess.run([KITH, "init", "--home", "Our", "--domain", "our.example"], env=env,
                           check=True, capture_output=True)  # fmt: skip
            url = f"imap://bench@127.0.0.1:{server.port}"
            folders = [a for f in FOLDERS for a in ("--folder", f)]
            run_kith(db, "mail", "connect", url, *folders, "--headers-only", "--password-stdin",
                     "--json", stdin="pw-bench\n")  # fmt: skip
            sync_secs, sync_peak, out = run_kith(db, "mail", "sync", "--once", "--json")
            counts = json.loads(out)["accounts"][0]["counts"]
            rate = messages / sync_secs
            print(
                f"round {n}: IMAP first sync (headers only, {len(FOLDERS)} folders): "
                f"{sync_secs:.1f} s, {rate:,.0f} msg/s (goal >= 2,000), peak {sync_peak:,.0f} MB"
            )
            ratio = sync_secs / secs
            print(f"     ratio: the IMAP sync takes {ratio:.2f}x the mbox import's time for the "
                  f"same messages ({rate / (messages / secs):.2f}x its rate)")  # fmt: skip
            mbox_made = report["counts"].get("interactions_created")  # type: ignore[union-attr]
            same = "same" if mbox_made == counts.get("interactions_created") else "DIFFERENT"
            print(f"     interactions: mbox {mbox_made:,}, IMAP "
                  f"{counts.get('interactions_created', 0):,} ({same})")  # fmt: skip
        t = time.perf_counter()
        idle_secs, _, out = run_kith(db, "mail", "sync", "--once", "--json")
        wall = time.perf_counter() - t
        again = json.loads(out)["accounts"][0]
        assert not again["counts"].get("messages"), again
        print(
            f"incremental sync with nothing new: {idle_secs:.3f} s for {len(FOLDERS)} folders "
            f"({idle_secs / len(FOLDERS):.3f} s per folder, goal < 1 s; {wall:.2f} s with "
            f"process start-up)"
        )
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(base)], check=False)


if __name__ == "__main__":
    main(sys.argv[1:])
