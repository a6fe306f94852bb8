"""Spreadsheet cells Kith writes are never formulas, and read back as they were.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets (CSV injection). As OWASP recommends, such a
value is written with a leading apostrophe; numbers and phone numbers (``+1 415 555 0199``,
``-12.5``) are left as they are. Reading strips that one apostrophe again, so an export or a
reject file imports back to the same values.
"""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_OR_PHONE = re.compile(r"[+-]?[0-9][0-9 ().,/-]*")


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet may safely hold it (see the module docstring)."""
    if value.startswith(_TRIGGERS) and not _NUMBER_OR_PHONE.fullmatch(value):
        return "'" + value
    return value


def read_cell(value: str) -> str:
    """The value a cell written by ``safe_cell`` stood for."""
    if value.startswith("'") and value[1:2] in _TRIGGERS and value[1:2] != "":
        return value[1:]
    return value
