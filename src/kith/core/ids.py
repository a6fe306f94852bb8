"""Stable, short, URL-safe string ids: a type prefix and 12 base32 characters."""

from __future__ import annotations

import random
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _encode(n: int, width: int = 12) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 32)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def new_id(prefix: str, rng: random.Random | None = None) -> str:
    """Return a new id such as ``per_0k3j9x2m1q8z``; seeded when ``rng`` is given."""
    bits = rng.getrandbits(60) if rng is not None else secrets.randbits(60)
    return f"{prefix}_{_encode(bits)}"
