"""A vendor's time zone: chosen at sign-up, changed in the settings; its today and its clock."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shared.actors import Actor, record
from shared.clock import COMMON_TIME_ZONES, is_time_zone, time_zone_names
from shared.errors import InputError
from shared.extensions import db
from tenants.branding import require_owner
from tenants.models import Tenant

# How the common zones read in the picker; every other zone shows its IANA name.
COMMON_LABELS = {
    "America/New_York": _l("Eastern Time (New York)"),
    "America/Chicago": _l("Central Time (Chicago)"),
    "America/Denver": _l("Mountain Time (Denver)"),
    "America/Phoenix": _l("Mountain Time without daylight saving (Phoenix)"),
    "America/Los_Angeles": _l("Pacific Time (Los Angeles)"),
    "America/Anchorage": _l("Alaska Time (Anchorage)"),
    "Pacific/Honolulu": _l("Hawaii Time (Honolulu)"),
    "America/Puerto_Rico": _l("Atlantic Time (Puerto Rico)"),
}


def time_zone_choices() -> list[tuple[str, str]]:
    """(IANA name, label): the common US zones first, then every zone this machine knows."""
    common = [(name, str(COMMON_LABELS[name])) for name in COMMON_TIME_ZONES]
    rest = sorted(name for name in time_zone_names() if name not in COMMON_LABELS)
    return common + [(name, name.replace("_", " ")) for name in rest]


def checked_time_zone(raw: str, field: str = "time_zone") -> str:
    name = (raw or "").strip()
    if not is_time_zone(name):
        raise InputError(field, str(_l("Choose a time zone from the list.")))
    return name


def change_time_zone(tenant: Tenant, actor: Actor, raw: str) -> None:
    """The vendor's days (due dates, overdue, today) follow this zone from now on."""
    require_owner(actor)
    name = checked_time_zone(raw)
    if name != tenant.time_zone:
        record(tenant.id, actor, "tenant.time_zone_changed", old=tenant.time_zone, new=name)
        tenant.time_zone = name
        db.session.flush()
