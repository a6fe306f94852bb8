"""Turning bytes into text: BOMs, UTF-16 without BOM, cp1252, Shift_JIS; binary refused."""

from __future__ import annotations

import codecs

from kith.core.errors import ValidationError


def looks_binary(sample: bytes) -> bool:
    """True for data that is not text in any encoding we read (NULs outside UTF-16)."""
    if not sample:
        return False
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if utf16_without_bom(sample):
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > len(sample) * 0.05


def utf16_without_bom(sample: bytes) -> str | None:
    """Guess UTF-16 by NULs on every other byte (ASCII-heavy text)."""
    if len(sample) < 4:
        return None
    even = sample[0::2][:500]
    odd = sample[1::2][:500]
    if odd.count(0) > len(odd) * 0.7 and even.count(0) < len(even) * 0.1:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.7 and odd.count(0) < len(odd) * 0.1:
        return "utf-16-be"
    return None


def sniff_encoding(sample: bytes) -> str:
    """Pick the encoding of ``sample`` (the start of a file)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(codecs.BOM_UTF16_LE) or sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if enc := utf16_without_bom(sample):
        return enc
    for enc in ("utf-8", "shift_jis"):
        try:
            sample.decode(enc)
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the end of the sample is still that encoding
            if exc.start >= len(sample) - 4 and enc == "utf-8":
                return enc
            continue
        if enc == "shift_jis" and not _plausible_sjis(sample):
            continue
        return enc
    return "cp1252"


def _plausible_sjis(sample: bytes) -> bool:
    """Shift_JIS decodes much cp1252 text too; accept it only with Japanese characters."""
    text = sample.decode("shift_jis", errors="replace")
    japanese = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    high = sum(1 for b in sample if b >= 0x80)
    return japanese > 0 and japanese * 2 >= high * 0.6


def decode(data: bytes, *, name: str) -> str:
    """Decode a whole file; a clear error for binary data."""
    if looks_binary(data[:8192]):
        raise ValidationError(f"{name}: this is a binary file, not text", field="file")
    enc = sniff_encoding(data[:65536])
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.lstrip("\ufeff")


def open_text(path: str, *, name: str) -> tuple[object, str]:
    """Open ``path`` as streamed text (newline="" for csv); returns the file and encoding."""
    with open(path, "rb") as fh:
        sample = fh.read(65536)
    if not sample.strip():
        raise ValidationError(f"{name}: the file is empty", field="file")
    if looks_binary(sample[:8192]):
        raise ValidationError(f"{name}: this is a binary file, not text", field="file")
    enc = sniff_encoding(sample)
    if enc == "cp1252":
        try:
            sample.decode("cp1252")
        except UnicodeDecodeError:
            enc = "latin-1"
    return open(path, encoding=enc, newline=""), enc
