"""Hostile workbooks: peak memory and time of `kith import` on the review's two files,
against an ordinary workbook imported in the same run (the baseline).

- ``wide``: one row of 3,000,000 cells (~330 KB zipped; once 2.8 GB and 43-79 s),
- ``long``: a header and 16,000,000 empty rows (~2.3 MB zipped; once 1.5 GB and 287 s),
- ``plain``: the baseline, 5,000 people in a workbook of the usual shape.

Each import runs in a child process on a fresh SQLite workspace; its peak is the child's
own VmHWM. ``--before=SRC`` runs the same files with the Kith source tree at SRC too (e.g.
``git archive e5706cd^ src | tar -x -C /tmp/before`` then ``--before=/tmp/before/src``:
the code before the streaming bounds), for the figures of the issue's closing note.

    .venv/bin/python -m benchmarks hostile [--before=/tmp/before/src] [--only=wide]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from benchmarks.memory import PEAK_MB_SOURCE

SRC = str(Path(__file__).resolve().parent.parent / "src")
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
CELL = b'<c t="inlineStr"><is><t>x</t></is></c>'

CHILD = PEAK_MB_SOURCE + (
    "import sys, time\n"
    "from kith.cli.main import run\n"
    "t = time.perf_counter()\n"
    "try:\n"
    "    rc = run(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    rc = exc.code\n"
    "dt = time.perf_counter() - t\n"
    "sys.stderr.write(f'\\nTIME {dt} PEAK_MB {peak_mb()}\\n')\n"
    "sys.exit(rc)\n"
)


def _book(path: Path, rows: bytes) -> Path:
    """A minimal .xlsx (workbook, relationships, one sheet) streaming ``rows`` in."""
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {NS} xmlns:r="{rel}"><sheets><sheet name="S" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(f'<?xml version="1.0"?><worksheet {NS}><sheetData>'.encode())
            for chunk in _chunks(rows):
                out.write(chunk)
            out.write(b"</sheetData></worksheet>")
    return path


def _chunks(data: bytes, size: int = 1 << 22) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _row(n: int, values: list[str]) -> bytes:
    cells = "".join(
        f'<c r="{chr(65 + i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{n}">{cells}</row>'.encode()


def files(folder: Path) -> dict[str, Path]:
    plain = b"".join(
        [_row(1, ["Name", "Email"])]
        + [_row(n + 2, [f"Plain Person {n}", f"p{n}@plain.example"]) for n in range(5_000)]
    )
    return {
        "plain": _book(folder / "plain.xlsx", plain),
        "wide": _book(folder / "wide.xlsx", b'<row r="1">' + CELL * 3_000_000 + b"</row>"),
        "long": _book(folder / "long.xlsx", _row(1, ["Name", "Email"]) + b"<row/>" * 16_000_000),
    }


def run_import(src: str, folder: Path, book: Path) -> tuple[float, float, str]:
    """`kith import BOOK` with the source tree ``src``: (seconds, peak MB, outcome)."""
    db = folder / f"{book.stem}-{abs(hash(src)) % 10_000}.db"
    env = {
        **os.environ,
        "KITH_DB": f"sqlite:///{db}",
        "KITH_HOME": str(folder),
        "PYTHONPATH": src,
        "KITH_IMPORT_SECONDS": "3600",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    init = [sys.executable, "-c", CHILD, "init", "--home", "Our", "--domain", "our.example"]
    subprocess.run(init, env=env, check=True, capture_output=True)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "import", str(book), "--format", "xlsx"],
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    tail = lines[-1].split()
    said = next((line for line in lines if line.startswith("error:")), "")
    outcome = "imported" if proc.returncode == 0 else (said[:110] or f"exit {proc.returncode}")
    return float(tail[1]), float(tail[3]), outcome


def main(argv: list[str]) -> None:
    args = dict(a.split("=", 1) for a in argv if "=" in a)
    before = args.get("--before", "")
    only = set(filter(None, args.get("--only", "").split(",")))
    trees = [("now", SRC)] + ([("before", before)] if before else [])
    with tempfile.TemporaryDirectory(prefix="kith-hostile-") as tmp:
        folder = Path(tmp)
        books = files(folder)
        for name, book in books.items():
            print(f"{name}: {book.stat().st_size / 1024:,.0f} KB zipped")
        for label, src in trees:
            base_s, base_mb, _ = run_import(src, folder, books["plain"])
            print(f"[{label}] plain (baseline): {base_s:.1f} s, peak {base_mb:.0f} MB")
            for name in ("wide", "long"):
                if only and name not in only:
                    continue
                took, peak, outcome = run_import(src, folder, books[name])
                print(
                    f"[{label}] {name}: {took:.1f} s ({took / base_s:.2f}x baseline), "
                    f"peak {peak:.0f} MB ({peak / base_mb:.2f}x baseline): {outcome}",
                    flush=True,
                )


if __name__ == "__main__":
    main(sys.argv[1:])
