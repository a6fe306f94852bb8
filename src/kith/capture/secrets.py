"""Credentials encrypted at rest with a Fernet key from ``KITH_CAPTURE_KEY``; never logged."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kith.core.errors import ValidationError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

ENV = "KITH_CAPTURE_KEY"


def _fernet() -> Fernet:
    from cryptography.fernet import Fernet  # noqa: PLC0415 - costs 40 ms to import

    key = os.environ.get(ENV, "")
    if not key:
        raise ValidationError(
            f"{ENV} is not set: credentials are stored encrypted with it (make one with "
            "`kith mail key`)",
            field=ENV,
        )
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        raise ValidationError(
            f"{ENV} is not a Fernet key (32 url-safe base64-encoded bytes)", field=ENV
        ) from None


def new_key() -> str:
    """A fresh key for ``KITH_CAPTURE_KEY``."""
    from cryptography.fernet import Fernet  # noqa: PLC0415

    return Fernet.generate_key().decode()


def seal(secret: str) -> str:
    """The secret encrypted for storage."""
    return str(_fernet().encrypt(secret.encode()).decode())


def unseal(token: str) -> str:
    """The stored secret in clear; a clear error when the key does not open it."""
    from cryptography.fernet import InvalidToken  # noqa: PLC0415

    try:
        return str(_fernet().decrypt(token.encode()).decode())
    except InvalidToken:
        raise ValidationError(
            f"the stored credentials do not open with this {ENV} (was the key changed?); "
            "connect the account again",
            field=ENV,
        ) from None
