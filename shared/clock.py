"""Time: one clock the whole code reads, each vendor's business day, and a column type that keeps
instants in UTC everywhere.

Instants are aware UTC datetimes. "Today" is always a vendor's today, in its time zone: at 03:30
UTC on December 2 it is still December 1 in New York. Nothing else in the code asks the system for
the time (a test scans the sources for it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

DEFAULT_TIME_ZONE = "America/New_York"
# Offered first when a vendor picks a zone; every IANA name is accepted.
COMMON_TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)


class HasTimeZone(Protocol):
    time_zone: str


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock:
    """The time, for code that is handed a clock rather than an instant (jobs, schedulers)."""

    def now(self) -> datetime:
        return utcnow()

    def today(self, time_zone: str) -> date:
        return today_in(time_zone, self.now())


clock = Clock()


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


@cache
def zone(name: str) -> ZoneInfo:
    """The zone of that IANA name; the default one for a name this machine does not know."""
    try:
        return ZoneInfo(name) if is_time_zone(name) else ZoneInfo(DEFAULT_TIME_ZONE)
    except ZoneInfoNotFoundError:
        return ZoneInfo(DEFAULT_TIME_ZONE)


def today_in(time_zone: str, now: datetime) -> date:
    """The calendar day it is at the instant `now` in that zone."""
    if now.tzinfo is None:
        raise ValueError("naive datetime given for an instant")
    return now.astimezone(zone(time_zone)).date()


def business_today(tenant: HasTimeZone, now: datetime) -> date:
    """The vendor's today: the day it is in its time zone at the instant `now`."""
    return today_in(tenant.time_zone, now)


def local_time(tenant: HasTimeZone, when: datetime) -> datetime:
    """An instant on the vendor's wall clock."""
    return when.astimezone(zone(tenant.time_zone))


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
