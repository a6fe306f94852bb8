"""One-click unsubscribe tokens: one per user and kind, kept only as a SHA-256 hash.

The token is an HMAC of the server's shared secret over the user, the kind and a random
salt, so each email of a kind can carry the same link without the token being stored;
changing the salt (``rotate``) voids every link given out before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.db import IntegrityError, transaction

from kith.accounts.services import server_secret
from kith.notifications.models import UnsubscribeToken


def _derive(user_id: int, kind: str, salt: str) -> str:
    mac = hmac.new(server_secret().encode(), f"unsubscribe:{user_id}:{kind}:{salt}".encode(),
                   hashlib.sha256)  # fmt: skip
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    """The token of ``user_id`` for ``kind`` (``*``: all email), made on first use."""
    row = UnsubscribeToken.objects.filter(user_id=user_id, kind=kind).first()
    if row is not None:
        return _derive(user_id, kind, row.salt)
    salt = secrets.token_hex(16)
    token = _derive(user_id, kind, salt)
    try:
        with transaction.atomic():
            UnsubscribeToken.objects.create(
                user_id=user_id, kind=kind, salt=salt, token_hash=token_hash(token)
            )
    except IntegrityError:  # made at the same moment elsewhere: use that one
        row = UnsubscribeToken.objects.get(user_id=user_id, kind=kind)
        return _derive(user_id, kind, row.salt)
    return token


def find_token(token: str) -> UnsubscribeToken | None:
    """The token row ``token`` stands for, or None (compared by hash only)."""
    if not token or len(token) > 100:
        return None
    return (
        UnsubscribeToken.objects.select_related("user").filter(token_hash=token_hash(token)).first()
    )
