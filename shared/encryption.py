"""Encryption at rest for the few secrets we keep (bank account numbers).

`ENCRYPTION_KEY` holds one or more Fernet keys, comma-separated: the first encrypts, every one
decrypts (cryptography's MultiFernet). To rotate: put a new key first, keep the old ones after it,
run `flask encryption rotate`, then drop the old keys.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet_for", "generate_key", "rotate"]


def generate_key() -> str:
    return Fernet.generate_key().decode()


def fernet_for(keys: str) -> MultiFernet:
    """A MultiFernet from a comma-separated list of keys (first encrypts, all decrypt)."""
    parts = [part.strip() for part in keys.split(",") if part.strip()]
    if not parts:
        raise ValueError("ENCRYPTION_KEY holds no key.")
    return MultiFernet([Fernet(part.encode()) for part in parts])


def _fernet() -> MultiFernet:
    return fernet_for(current_app.config["ENCRYPTION_KEY"])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same secret, encrypted again with the first key."""
    return _fernet().rotate(token.encode()).decode()
