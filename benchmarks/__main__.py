"""Run benchmarks by name: ``python -m benchmarks core import intelligence network load``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(folder)])
        if m.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or available()
    extra = [a for a in argv if a.startswith("-")]
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}")
        return 2
    for name in names:
        print(f"=== benchmark: {name}", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main(extra)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
