"""The issue's AutoPay dates on the Federal Reserve calendar (banking days, not weekdays)."""

from datetime import date

import pytest

from shared.autopay import withdrawal_day


@pytest.mark.parametrize(
    ("due", "days", "direction", "expected"),
    [
        # The issue's: 2 before Tue 2026-07-07 is Fri 2026-07-03 (July 4 is a Saturday: the Fed
        # stays open on the Friday); 3 before Tue 2027-07-06 skips Mon 2027-07-05 (observed).
        ("2026-07-07", 2, "before", "2026-07-03"),
        ("2027-07-06", 3, "before", "2027-06-30"),
        # On the due date; a due date on a Saturday is paid on the Friday before (on time).
        ("2026-07-07", 0, "before", "2026-07-07"),
        ("2026-07-04", 0, "after", "2026-07-03"),
        # After: Juneteenth (Fri 2026-06-19) is no banking day.
        ("2026-06-18", 1, "after", "2026-06-22"),
        ("2026-07-02", 2, "after", "2026-07-06"),
        # Before a Monday: Juneteenth again, then the Thursday.
        ("2026-06-22", 1, "before", "2026-06-18"),
    ],
)
def test_withdrawal_day(due, days, direction, expected):
    assert withdrawal_day(date.fromisoformat(due), days, direction) == date.fromisoformat(expected)
