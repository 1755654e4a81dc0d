"""Banking days: the days the Federal Reserve settles ACH (weekdays that are not Fed holidays).

The calendar is `holidays.financial_holidays("FED")`. A Fed holiday that falls on a Saturday is not
moved to the Friday (the Fed stays open), and one on a Sunday is observed on the Monday, which the
library already lists as "(observed)".
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _fed(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("FED", years=[year]).keys())


def is_banking_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _fed(day.year)


def next_banking_day(day: date) -> date:
    """`day` itself when it is a banking day, else the first banking day after it."""
    while not is_banking_day(day):
        day += timedelta(days=1)
    return day


def banking_days_after(day: date, count: int) -> date:
    """The `count`-th banking day after `day` (settlement: an ACH debit sent today settles T+1)."""
    for _ in range(count):
        day = next_banking_day(day + timedelta(days=1))
    return day
