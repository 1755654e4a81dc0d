"""Banking days: weekdays that are not Federal Reserve holidays."""

from __future__ import annotations

from datetime import date

from shared.banking_days import banking_days_after, is_banking_day, next_banking_day


def test_weekends_and_fed_holidays_are_not_banking_days():
    assert not is_banking_day(date(2026, 12, 5))  # Saturday
    assert not is_banking_day(date(2026, 12, 6))  # Sunday
    assert not is_banking_day(date(2026, 12, 25))  # Christmas
    assert not is_banking_day(date(2026, 11, 11))  # Veterans Day: the Fed closes, shops don't
    assert is_banking_day(date(2026, 12, 3))


def test_a_holiday_on_sunday_is_observed_on_monday_and_on_saturday_not_moved():
    assert not is_banking_day(date(2027, 7, 5))  # July 4th 2027 is a Sunday
    assert is_banking_day(date(2026, 7, 3))  # July 4th 2026 is a Saturday: Friday stays open


def test_next_banking_day():
    assert next_banking_day(date(2026, 12, 3)) == date(2026, 12, 3)
    assert next_banking_day(date(2026, 12, 5)) == date(2026, 12, 7)
    assert next_banking_day(date(2026, 12, 24)) == date(2026, 12, 24)
    assert next_banking_day(date(2026, 12, 25)) == date(2026, 12, 28)


def test_banking_days_after_skips_weekends_and_holidays():
    assert banking_days_after(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert banking_days_after(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert banking_days_after(date(2026, 12, 3), 0) == date(2026, 12, 3)
