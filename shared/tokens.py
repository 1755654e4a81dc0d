"""Secrets in links: invitation tokens kept only as hashes, and the password fingerprint that makes a
reset link die once the password changes. Used by staff and payer accounts alike."""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """What we store of an emailed token: its sha256, never the token."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def password_fingerprint(password_hash: str) -> str:
    """Part of a reset token: once the password changes, every earlier reset link stops working."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]
