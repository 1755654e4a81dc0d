"""Who does something: the actor an operation is handed, and the line it leaves in the audit log.

Operations never ask the request who is signed in: the console, the portal, the API, the command
line and jobs each say who acts (a staff user, a payer, a guest holding a link, an API key, or the
system itself), so the scheduler and tests call the very same code.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Protocol

audit_log = logging.getLogger("arportal.audit")


class ActorKind(enum.StrEnum):
    STAFF = "staff"
    PAYER = "payer"
    GUEST = "guest"
    API_KEY = "api_key"
    SYSTEM = "system"


class _Person(Protocol):
    id: int
    email: str


class _Staff(_Person, Protocol):
    @property
    def is_owner(self) -> bool: ...


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None  # the staff user's, payer's or API key's row; None for guests and system
    label: str = ""  # what a person reading the log recognises: an email, a key's name
    is_owner: bool = False  # a staff user who may change the vendor's settings

    @classmethod
    def staff(cls, user: _Staff) -> Actor:
        return cls(ActorKind.STAFF, user.id, user.email, is_owner=bool(user.is_owner))

    @classmethod
    def payer(cls, user: _Person) -> Actor:
        return cls(ActorKind.PAYER, user.id, user.email)

    @classmethod
    def guest(cls, label: str = "") -> Actor:
        return cls(ActorKind.GUEST, None, label)

    @classmethod
    def api_key(cls, key_id: int, name: str) -> Actor:
        return cls(ActorKind.API_KEY, key_id, name)

    @property
    def staff_id(self) -> int | None:
        """The staff user's id, for columns that say which staff member did something."""
        return self.id if self.kind is ActorKind.STAFF else None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id if self.id is not None else '-'}"


SYSTEM = Actor(ActorKind.SYSTEM, None, "system")


def record(tenant_id: int, actor: Actor, action: str, **details: object) -> None:
    """One audit line: which vendor, who, what (e.g. `invoice.voided`), and on which rows."""
    extra = " ".join(f"{key}={value}" for key, value in details.items())
    audit_log.info("tenant=%s actor=%s action=%s %s", tenant_id, actor, action, extra)
