"""Read a big mailbox in a helper process while this one matches and writes.

Parsing headers is about a third of an mbox import's time; a helper process (this module,
run by the same Python) reads and parses the next chunks while the importer writes the
current one. Chunks arrive in file order, so the import is the same as reading in-process;
the pipe's buffer bounds how far the helper reads ahead, so memory stays bounded. Small
files are read in-process (starting a process costs more than it saves), and so is any
file whose helper cannot start.
"""

from __future__ import annotations

import itertools
import os
import pickle
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from kith.imports import mail
from kith.imports.items import Unit

READ_AHEAD_BYTES = 4_000_000  # files at least this big are parsed by a helper process
_SIZE = struct.Struct("!Q")
_HELLO = "kith-readahead-1"


def _send(out: IO[bytes], item: Any) -> None:
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_SIZE.pack(len(data)) + data)


def _receive(src: IO[bytes]) -> Any:
    head = src.read(_SIZE.size)
    if len(head) < _SIZE.size:
        raise EOFError
    size = _SIZE.unpack(head)[0]
    data = src.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def main(argv: list[str]) -> None:
    """In the helper: a hello, lists of units, then None; or ("error", exception)."""
    path, bodies, size = argv[0], argv[1] == "1", int(argv[2])
    out = sys.stdout.buffer
    try:
        _send(out, _HELLO)
        stream = mail.mbox_units(path, bodies=bodies)
        while chunk := list(itertools.islice(stream, size)):
            _send(out, chunk)
        _send(out, None)
        out.flush()
    except BrokenPipeError:  # the importer stopped reading (it failed): nothing to say
        os._exit(0)
    except Exception as exc:  # the importing process raises it
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # an exception that cannot make the trip goes as text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        try:
            _send(out, ("error", exc))
            out.flush()
        except OSError:
            os._exit(0)


def _start(path: str, bodies: bool, size: int, errors: IO[bytes]) -> subprocess.Popen[bytes]:
    if not Path(sys.executable or "").name.lower().startswith("python"):
        raise OSError("not run by a python executable (an embedding server?)")
    root = str(Path(__file__).resolve().parents[2])  # kith importable in the helper
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get(
        "PYTHONPATH")]))}  # fmt: skip
    args = [sys.executable, "-m", "kith.imports.readahead", path, "1" if bodies else "0"]
    return subprocess.Popen(
        [*args, str(size)], stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL,
        env=env, bufsize=1 << 16,
    )  # fmt: skip


def mbox_chunks(path: str, *, bodies: bool, size: int) -> Iterator[list[Unit]]:
    """The units of an mbox file in lists of ``size``, parsed ahead by a helper process."""
    with tempfile.TemporaryFile() as errors:
        try:
            proc = _start(path, bodies, size, errors)
        except OSError:
            proc = None
        if proc is not None:
            assert proc.stdout is not None
            try:
                try:
                    hello = _receive(proc.stdout)
                except (EOFError, pickle.UnpicklingError):
                    hello = None
                if hello == _HELLO:
                    while True:
                        try:
                            item = _receive(proc.stdout)
                        except EOFError:
                            errors.seek(0)
                            why = errors.read().decode(errors="replace").strip().splitlines()
                            last = why[-1] if why else "no reason given"
                            raise RuntimeError(f"the mailbox reader stopped: {last}") from None
                        if item is None:
                            return
                        if isinstance(item, tuple):
                            raise item[1]
                        yield item
            finally:
                proc.stdout.close()
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
    # no helper (it could not start): read in this process
    stream = mail.mbox_units(path, bodies=bodies)
    while chunk := list(itertools.islice(stream, size)):
        yield chunk


if __name__ == "__main__":
    main(sys.argv[1:])
