"""Importing customers from CSV: name, email, client_number, phone, language, type, more_emails."""

from __future__ import annotations

from shared.actors import SYSTEM, Actor
from shared.csv_import import ImportResult, clean_row, import_all, read_rows
from shared.customers import create_customer

REQUIRED = {"name", "email"}
OPTIONAL = {"client_number", "phone", "language", "type", "more_emails"}
NAMES = frozenset({"name"})
_COLUMN = {"kind": "type", "cc_emails": "more_emails"}


def import_customers(data: bytes, *, actor: Actor = SYSTEM) -> ImportResult:
    """Create one customer per row of the tenant in scope, or none if any row is wrong."""
    rows = list(read_rows(data, REQUIRED, OPTIONAL))

    def apply(row: dict[str, str]) -> None:
        row = clean_row(row, names=NAMES)
        create_customer(
            name=row["name"],
            email=row["email"],
            client_number=row.get("client_number") or None,
            phone=row.get("phone", ""),
            language=(row.get("language") or "en").lower(),
            kind=(row.get("type") or "business").lower(),
            cc_emails=row.get("more_emails", ""),
            actor=actor,
        )

    return import_all(rows, apply, lambda field: _COLUMN.get(field, field))
