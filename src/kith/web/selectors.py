"""Reads of the web app that no feature app already answers (home page digest, lists, jobs).

Sections, each owned by one area of the web app; edit only your own.
"""

from __future__ import annotations

# -- home page and lists ----------------------------------------------------------------------


# -- import jobs ------------------------------------------------------------------------------
