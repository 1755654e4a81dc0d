"""Times our NACHA writer and reader: a 100,000-entry file written, the moov-io sample of
100,199 entries in 200 batches read. Prints seconds beside the targets (best of three runs).

Run as `python -m bench.ach` from the repo root; the sample is ../shared/ach-samples.
"""

from __future__ import annotations

import gzip
import sys
import time
from datetime import date, datetime
from pathlib import Path

from shared.ach import nacha

ROOT = Path(__file__).resolve().parent.parent
WRITE_TARGET = 2.0
READ_TARGET = 3.0
ENTRIES = 100_000
RUNS = 3


def samples_folder() -> Path:
    """../shared/ach-samples from the repo root (from a worktree: the nearest one above it)."""
    for folder in (ROOT, *ROOT.parents):
        candidate = folder.parent / "shared" / "ach-samples"
        if candidate.is_dir():
            return candidate
    raise SystemExit("../shared/ach-samples not found")


def _debits() -> list[nacha.Debit]:
    names = ["José Núñez", "Harbor View Dental", "Zoë Ørsted", "Maria Gonzalez", "Acme Ltd"]
    return [
        nacha.Debit(
            sec_code="WEB" if i % 3 else "CCD",
            routing_number=("011000015", "021000021", "231380104")[i % 3],
            account_number=str(10_000_000 + i),
            savings=i % 4 == 0,
            amount=100 + i,
            name=names[i % 5],
            identification=f"P{i}",
        )
        for i in range(ENTRIES)
    ]


def _best(function) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    originator = nacha.Originator(
        "021000021", "JPMORGAN CHASE", "1234567890", "ACME", "021000021", "1234567890", "Acme",
        "INVOICES",
    )  # fmt: skip
    debits = _debits()
    wrote, written = _best(
        lambda: nacha.write_file(
            originator,
            debits,
            effective_date=date(2026, 6, 22),
            created_at=datetime(2026, 6, 18, 17, 0),
            file_id_modifier="A",
        )
    )
    assert written.entry_count == ENTRIES
    data = gzip.decompress(
        (samples_folder() / "PPD-200-batches-100000-entries.ach.gz").read_bytes()
    )
    read, ach = _best(lambda: nacha.read_file(data))
    entries = sum(len(b.entries) for b in ach.batches)
    print(
        f"NACHA write, {ENTRIES:,} entries: {wrote:.2f} s (target ≤ {WRITE_TARGET:.0f} s)"
        + _verdict(wrote, WRITE_TARGET)
    )
    print(
        f"NACHA read, {entries:,} entries in {len(ach.batches)} batches: {read:.2f} s "
        f"(target ≤ {READ_TARGET:.0f} s)" + _verdict(read, READ_TARGET)
    )
    return 0


def _verdict(seconds: float, target: float) -> str:
    return "" if seconds <= target else "  ** over target **"


if __name__ == "__main__":
    sys.exit(main())
