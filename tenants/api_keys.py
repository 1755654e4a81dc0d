"""API keys: how a vendor's own systems call the REST API on the vendor's behalf.

A key reads `arp_<prefix>_<secret>`. The prefix is public: the console shows it so staff can tell
keys apart, and it finds the key's row. Only a sha256 hash of the secret is stored, so the database
never holds a working key; the whole key is shown once, when it is made. The key alone names its
tenant. Operations flush and leave the commit to the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from shared.clock import UTCDateTime, utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.tenancy import TenantOwned, same_tenant_key, scoped_get, tenant_scope
from shared.unit_of_work import separate_unit
from tenants.models import StaffUser, Tenant, TenantStatus

KEY_RE = re.compile(r"^arp_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
# Writing last_used_at on every call would turn each read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


class ApiKey(TenantOwned, db.Model):
    __tablename__ = "api_keys"
    __table_args__ = (same_tenant_key("api_keys", "created_by_id", "staff_users"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), comment="What the vendor uses the key for.")
    prefix: Mapped[str] = mapped_column(
        String(12), unique=True, comment="Public part of the key: shown in the console, finds it."
    )
    secret_hash: Mapped[str] = mapped_column(
        String(64), comment="sha256 (hex) of the secret part; the key itself is never stored."
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"),
        comment="Staff user who made it; empty when made on the command line.",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Last successful call, to the minute."
    )
    revoked_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Set once revoked; a revoked key never works again."
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def display(self) -> str:
        """How the console shows the key: its public start only."""
        return f"arp_{self.prefix}_…"


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    token: str  # the whole key: shown once, then only its hash remains


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InputError("name", str(_l("Name the key, e.g. after the system that uses it.")))
    if len(name) > 100:
        raise InputError("name", str(_l("Use at most %(n)d characters.", n=100)))
    return name


def create_api_key(name: str, created_by: StaffUser | None = None) -> NewApiKey:
    """A new key for the tenant in scope."""
    name = _name(name)
    while True:
        prefix = secrets.token_hex(6)
        taken = db.session.scalar(
            select(ApiKey.id).where(ApiKey.prefix == prefix).execution_options(all_tenants=True)
        )
        if taken is None:
            break
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(key)
    db.session.flush()
    return NewApiKey(key, f"arp_{prefix}_{secret}")


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()


def get_api_key(key_id: int) -> ApiKey | None:
    return scoped_get(ApiKey, key_id)


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    created_by: str  # the staff user's email, or "" for the command line


def api_keys() -> list[KeyRow]:
    """The tenant in scope's keys, active ones first, newest first, with who made them."""
    rows = db.session.execute(
        select(ApiKey, StaffUser.email)
        .outerjoin(StaffUser, StaffUser.id == ApiKey.created_by_id)
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
    ).all()
    return [KeyRow(key, email or "") for key, email in rows]


def authenticate_api_key(token: str) -> tuple[ApiKey, Tenant] | None:
    """The active key behind a bearer token and its (active) tenant, or None.

    Looks across tenants by design: the key is what names the tenant. The secret is compared in
    constant time, and a token of the wrong shape or with an unknown prefix costs the same hash and
    comparison, so timing tells nothing about which prefixes exist.
    """
    match = KEY_RE.fullmatch(token or "")
    if match is None:
        hmac.compare_digest(_DUMMY_HASH, _hash(token or ""))
        return None
    row = db.session.execute(
        select(ApiKey, Tenant)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.prefix == match["prefix"])
        .execution_options(all_tenants=True)
    ).one_or_none()
    stored = row[0].secret_hash if row is not None else _DUMMY_HASH
    genuine = hmac.compare_digest(stored, _hash(match["secret"]))
    if row is None or not genuine:
        return None
    key, tenant = row
    if key.revoked_at is not None or tenant.status is not TenantStatus.ACTIVE:
        return None
    return key, tenant


def note_use(key: ApiKey, now: datetime) -> bool:
    """Record that the key was used; True when that changed the row (to the minute).

    Written in a unit of work of its own: the record stays even when the call itself fails.
    """
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_PRECISION:
        return False
    with separate_unit() as session, tenant_scope(key.tenant_id, session):
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    set_committed_value(key, "last_used_at", now)  # known, without a write in this unit
    return True
