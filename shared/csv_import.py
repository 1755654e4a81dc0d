"""Reading a vendor's CSV file: every row is checked before anything is kept.

An import either takes every row or none: each row runs in its own savepoint so that its errors are
collected, and if any row failed the whole import is rolled back. Errors name the row (as a
spreadsheet numbers it: the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from shared.errors import InputError
from shared.extensions import db
from shared.text import TextError, clean

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
MAX_ERRORS = 100


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class CsvError(InputError):
    """The file as a whole is unreadable (not CSV, wrong columns, too big)."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


def read_rows(
    data: bytes, required: set[str], optional: set[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {column: value}) for each non-empty row; CsvError for an unusable file."""
    if len(data) > MAX_BYTES:
        raise CsvError(str(_l("The file is larger than 2 MB. Split it into smaller files.")))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(str(_l("The file is not UTF-8 text. Save it as “CSV UTF-8”."))) from None
    if "\x00" in text:
        raise CsvError(str(_l("This is not a CSV file.")))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvError(str(_l("The file is empty."))) from None
    columns = [h.strip().lower() for h in header]
    missing = sorted(required - set(columns))
    unknown = sorted(set(columns) - required - optional - {""})
    if missing:
        raise CsvError(str(_l("Missing columns: %(columns)s.", columns=", ".join(missing))))
    if unknown:
        raise CsvError(str(_l("Unknown columns: %(columns)s.", columns=", ".join(unknown))))
    try:
        for number, values in enumerate(reader, start=2):
            if number - 1 > MAX_ROWS:
                raise CsvError(str(_l("At most %(n)d rows per file.", n=MAX_ROWS)))
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(columns):
                raise CsvError(str(_l("Row %(row)d has more cells than the header.", row=number)))
            yield (
                number,
                {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns)},
            )
    except csv.Error:
        raise CsvError(str(_l("The file is not valid CSV."))) from None


def clean_row(
    row: dict[str, str],
    *,
    multiline: frozenset[str] = frozenset(),
    names: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """The row with its multi-line cells' line breaks normalised; InputError naming the column of a
    cell that holds a control character (or, in a name, a text-direction control)."""
    cleaned = {}
    for column, value in row.items():
        try:
            cleaned[column] = clean(value, multiline=column in multiline, name=column in names)
        except TextError as error:
            raise InputError(column, error.message) from None
    return cleaned


def import_all(
    rows: list[tuple[int, object]], apply: Callable[[object], None], column_of: Callable[[str], str]
) -> ImportResult:
    """Apply each row in its own savepoint; keep everything only if every row succeeded."""
    result = ImportResult()
    try:
        with db.session.begin_nested():
            for number, row in rows:
                try:
                    with db.session.begin_nested():
                        apply(row)
                except InputError as error:
                    row = getattr(error, "row", number)
                    result.errors.append(RowError(row, column_of(error.field), error.message))
                    if len(result.errors) >= MAX_ERRORS:
                        break
                else:
                    result.imported += 1
            if result.errors:
                raise _Refused  # leaving the savepoint by an exception rolls every row back
    except _Refused:
        result.imported = 0
    return result


class _Refused(Exception):
    """Some row was refused: none of the file is kept."""
