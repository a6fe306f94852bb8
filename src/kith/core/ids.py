"""Stable, short, URL-safe string ids: a type prefix and 12 base32 characters."""

from __future__ import annotations

import random
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


# two base32 characters for every 10-bit value: six lookups encode a 60-bit id
_PAIRS = [_ALPHABET[i >> 5] + _ALPHABET[i & 31] for i in range(1024)]


def _encode(n: int) -> str:
    """Encode a 60-bit number as 12 base32 characters, most significant first."""
    p = _PAIRS
    return (
        p[(n >> 50) & 1023]
        + p[(n >> 40) & 1023]
        + p[(n >> 30) & 1023]
        + p[(n >> 20) & 1023]
        + p[(n >> 10) & 1023]
        + p[n & 1023]
    )


def new_id(prefix: str, rng: random.Random | None = None) -> str:
    """Return a new id such as ``per_0k3j9x2m1q8z``; seeded when ``rng`` is given."""
    bits = rng.getrandbits(60) if rng is not None else secrets.randbits(60)
    return f"{prefix}_{_encode(bits)}"
