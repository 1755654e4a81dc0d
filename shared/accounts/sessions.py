"""Sign-in sessions kept on the server, for staff and payers alike.

The cookie (and Flask-Login's remember-me cookie) holds only `"<kind>:<key>"`, a random key whose
sha256 is a row here. Ending the row ends the session for every copy of the cookie: sign-out, a
password change, an admin removing a colleague. Deleting the user deletes its rows (foreign keys).
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Index, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime
from shared.extensions import db
from shared.tenancy import TenantOwned, tenant_foreign_key
from shared.tokens import token_hash

LIFETIME = timedelta(days=30)  # also the longest a remember-me cookie is honoured
SEEN_EVERY = timedelta(minutes=15)  # how often a request writes `last_seen_at`
KEY_LENGTH = 43  # secrets.token_urlsafe(32)


class SessionKind(enum.StrEnum):
    STAFF = "staff"
    PAYER = "payer"


_USER_COLUMN = {SessionKind.STAFF: "staff_user_id", SessionKind.PAYER: "portal_user_id"}


class SignInSession(TenantOwned, db.Model):
    """One signed-in browser of one staff user or payer."""

    __tablename__ = "sign_in_sessions"
    __table_args__ = (
        CheckConstraint("(staff_user_id IS NULL) <> (portal_user_id IS NULL)", name="one_user"),
        tenant_foreign_key("staff_user_id", "staff_users", ondelete="CASCADE"),
        tenant_foreign_key("portal_user_id", "portal_users", ondelete="CASCADE"),
        Index("ix_sign_in_sessions_tenant_id_staff_user_id", "tenant_id", "staff_user_id"),
        Index("ix_sign_in_sessions_tenant_id_portal_user_id", "tenant_id", "portal_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="sha256 of the key in the cookie; the key is not kept."
    )
    staff_user_id: Mapped[int | None] = mapped_column()
    portal_user_id: Mapped[int | None] = mapped_column()
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionUser(UserMixin):
    """For Flask-Login, a user's id is the id of the session it was loaded or started with."""

    sign_in_id = None  # "<kind>:<key>", set by `start` or by the session loader

    def get_id(self) -> str:
        if not self.sign_in_id:
            raise RuntimeError("start a sign-in session before login_user")
        return self.sign_in_id


def start(kind: SessionKind, user: SessionUser, *, now: datetime, user_agent: str = "") -> str:
    """A new session for `user` (in its tenant); sets and returns the id Flask-Login will keep."""
    key = secrets.token_urlsafe(32)
    row = SignInSession(
        tenant_id=user.tenant_id,  # type: ignore[attr-defined]
        key_hash=token_hash(key),
        user_agent=(user_agent or "")[:200],
        created_at=now,
        last_seen_at=now,
        expires_at=now + LIFETIME,
    )
    setattr(row, _USER_COLUMN[kind], user.id)  # type: ignore[attr-defined]
    db.session.add(row)
    db.session.flush()
    user.sign_in_id = f"{kind.value}:{key}"
    return user.sign_in_id


def parse(sign_in_id: str | None) -> tuple[SessionKind, str] | None:
    """The kind and key of a cookie's id; None for anything else (old formats included)."""
    kind, _sep, key = (sign_in_id or "").partition(":")
    if kind not in SessionKind.__members__.values() or len(key) != KEY_LENGTH:
        return None
    return SessionKind(kind), key


def find(kind: SessionKind, key: str, *, now: datetime, all_tenants: bool = False):
    """The live session behind a key (noting that it was seen), or None.

    Staff sessions are found before any tenant is in scope (the console's host names none), so
    their lookup is across tenants; a payer's is scoped to the portal's tenant.
    """
    column = getattr(SignInSession, _USER_COLUMN[kind])
    row = db.session.scalars(
        select(SignInSession)
        .where(SignInSession.key_hash == token_hash(key), column.is_not(None))
        .execution_options(all_tenants=all_tenants)
    ).one_or_none()
    if row is None or row.expires_at <= now:
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
    return row


def end(sign_in_id: str | None) -> None:
    """End the session with this id (sign-out); nothing when it is unknown or already ended."""
    parsed = parse(sign_in_id)
    if parsed is not None:
        db.session.execute(
            delete(SignInSession).where(SignInSession.key_hash == token_hash(parsed[1]))
        )


def end_all(kind: SessionKind, user_id: int) -> None:
    """End every session of a user (a password change: that browser then starts a new one)."""
    db.session.execute(
        delete(SignInSession).where(getattr(SignInSession, _USER_COLUMN[kind]) == user_id)
    )
