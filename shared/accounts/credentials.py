"""Passwords and the emailed links that stand in for them, for staff and payers alike.

One implementation of: checking and setting a new password (which ends every session of the
person), signed links that expire (email confirmation, account claims), reset links that also die
once the password changes, and invitation tokens kept only as hashes.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.accounts import sessions
from shared.accounts.sessions import SessionKind
from shared.errors import InputError
from shared.passwords import hash_password, password_problem
from shared.tokens import password_fingerprint, token_hash

RESET_MAX_AGE = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)


class HasPassword(Protocol):
    id: int
    password_hash: str


def check_new_password(password: str | None, field: str = "password") -> None:
    problem = password_problem(password or "")
    if problem:
        raise InputError(field, problem)


def set_password(user: HasPassword, kind: SessionKind, new_password: str, field: str = "password"):
    """Check and set a new password; every session of the person ends (the browser that changed
    it starts a new one)."""
    check_new_password(new_password, field)
    user.password_hash = hash_password(new_password)
    sessions.end_all(kind, user.id)


class SignedLinks:
    """Tokens for emailed links: signed with the app's secret, for one purpose (the salt), expiring."""

    def __init__(self, salt: str, max_age: timedelta) -> None:
        self.salt = salt
        self.max_age = max_age

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def make(self, **data: Any) -> str:
        return self._serializer().dumps(data)

    def read(self, token: str | None) -> dict[str, Any] | None:
        """The data of a genuine, unexpired token of this purpose; None for anything else."""
        if not token or len(token) > 500:
            return None
        try:
            data = self._serializer().loads(token, max_age=int(self.max_age.total_seconds()))
        except (SignatureExpired, BadSignature):
            return None
        return data if isinstance(data, dict) else None


class ResetLinks(SignedLinks):
    """Password reset links: bound to the person and to their current password, so a reset (or any
    password change) kills every earlier link."""

    def make_for(self, user: HasPassword, **data: Any) -> str:
        return self.make(u=user.id, h=password_fingerprint(user.password_hash), **data)

    def user_id(self, token: str | None) -> tuple[int, dict[str, Any]] | None:
        data = self.read(token)
        if data is None or not isinstance(data.get("u"), int) or isinstance(data["u"], bool):
            return None
        return data["u"], data

    @staticmethod
    def still_valid(user: HasPassword | None, data: dict[str, Any]) -> bool:
        return user is not None and secrets.compare_digest(
            password_fingerprint(user.password_hash), str(data.get("h"))
        )


def new_invitation_token(now: datetime) -> tuple[str, str, datetime]:
    """A token for an invitation link, the hash to store, and when the invitation expires."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token), now + INVITATION_LIFETIME


def invitation_hash(token: str | None) -> str | None:
    """The stored hash a token from a link stands for, or None for a token no link carries."""
    if not token or len(token) > 100:
        return None
    return token_hash(token)
