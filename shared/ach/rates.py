"""A vendor's ACH return rates against NACHA's ceilings, over the last 60 days of debits.

NACHA measures an originator's returns against its debit entries over the preceding 60 days:
unauthorized returns (R05, R07, R10, R11, R29, R51) at most 0.5%, administrative (R02, R03, R04)
at most 3%, all returns at most 15%. Rates are kept in basis points (integers: 50 = 0.5%).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from shared.ach.codes import ADMINISTRATIVE, UNAUTHORIZED
from shared.ach.models import AchEntry, AchEntryKind, AchFile
from shared.extensions import db

WINDOW_DAYS = 60
CEILINGS_BP = {"unauthorized": 50, "administrative": 300, "overall": 1500}


@dataclass(frozen=True)
class Rate:
    name: str  # unauthorized, administrative, overall
    returns: int
    debits: int
    ceiling_bp: int

    @property
    def rate_bp(self) -> int:
        return self.returns * 10_000 // self.debits if self.debits else 0

    @property
    def over(self) -> bool:
        return self.debits > 0 and self.returns * 10_000 > self.ceiling_bp * self.debits


def return_rates(tenant, today: date) -> list[Rate]:
    since = today - timedelta(days=WINDOW_DAYS)
    codes = db.session.execute(
        select(AchEntry.return_code, func.count())
        .join(AchFile, AchFile.id == AchEntry.ach_file_id)
        .where(AchEntry.kind == AchEntryKind.DEBIT, AchFile.effective_date > since)
        .group_by(AchEntry.return_code)
    ).all()
    debits = sum(count for _code, count in codes)
    returned = {code: count for code, count in codes if code}
    counts = {
        "unauthorized": sum(n for c, n in returned.items() if c in UNAUTHORIZED),
        "administrative": sum(n for c, n in returned.items() if c in ADMINISTRATIVE),
        "overall": sum(returned.values()),
    }
    return [Rate(name, counts[name], debits, CEILINGS_BP[name]) for name in CEILINGS_BP]
