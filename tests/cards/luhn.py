"""The Luhn scan: finds any 13–19 digit Luhn-valid number in the test database or the logs.

After card tests, call `assert_no_card_numbers(app, caplog)` (or the two finders apart): it reads
every column of every table of the test's database — as the tables' owner, so row-level security
hides nothing on PostgreSQL — and every captured log record (message, arguments, traceback), and
fails naming where each number was (masked to its last four).

A number is a run of digits, single spaces or dashes allowed between them (as typed: "4242 4242
4242 4242"), standing on its own (no letter or digit right before or after it: hex digests and
base64 blobs hold long digit runs by chance, between letters), and not the decimals of a number
(a float's repr has 15 of them). Every stretch of whole groups of a
run that has 13–19 digits is checked, so "4242424242424242 12/30" is found too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from sqlalchemy import column, create_engine, inspect, select, table

from shared.cards.numbers import luhn_valid

_RUN = re.compile(r"(?<![0-9A-Za-z])(?<!\d\.)\d+(?:[ -]\d+)*(?![0-9A-Za-z])")


def card_numbers_in(text: str) -> list[str]:
    """The Luhn-valid 13–19 digit numbers in a text."""
    found = []
    for run in _RUN.finditer(text):
        groups = re.split(r"[ -]", run.group())
        for start in range(len(groups)):
            digits = ""
            for group in groups[start:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    found.append(digits)
    return found


def _masked(number: str) -> str:
    return f"…{number[-4:]} ({len(number)} digits)"


def card_numbers_in_database(app) -> list[str]:
    """`table.column: …1234` for each number found in the app's database."""
    url = app.config.get("MIGRATION_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url)
    found = []
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            for table_name in inspector.get_table_names():
                columns = [c["name"] for c in inspector.get_columns(table_name)]
                target = table(table_name, *(column(name) for name in columns))
                for row in connection.execute(select(target)):
                    for name, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        for number in card_numbers_in(str(value)):
                            found.append(f"{table_name}.{name}: {_masked(number)}")
    finally:
        engine.dispose()
    return found


def card_numbers_in_logs(records: Iterable[logging.LogRecord]) -> list[str]:
    """`logger: …1234` for each number found in the records (formatted as a handler would)."""
    formatter = logging.Formatter("%(name)s %(message)s")
    found = []
    for record in records:
        text = formatter.format(record) + " " + repr(record.args)
        for number in dict.fromkeys(card_numbers_in(text)):  # once a record
            found.append(f"{record.name}: {_masked(number)}")
    return found


def assert_no_card_numbers(app, caplog=None) -> None:
    """Fail if the database (or the records `caplog` captured) holds a card number."""
    in_database = card_numbers_in_database(app)
    in_logs = card_numbers_in_logs(caplog.records) if caplog is not None else []
    assert in_database == [], f"card numbers in the database: {in_database}"
    assert in_logs == [], f"card numbers in the logs: {in_logs}"
