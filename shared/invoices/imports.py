"""Importing invoices from CSV: one row per line; rows sharing an invoice number are one invoice.

Columns: client_number, issue_date, due_date, description, quantity, unit_price (required);
invoice_number, tax_rate (percent), terms, electronic (yes/no), notes (optional).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared import money
from shared.actors import SYSTEM, Actor
from shared.csv_import import ImportResult, clean_row, import_all, read_rows
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice

REQUIRED = {"client_number", "issue_date", "due_date", "description", "quantity", "unit_price"}
OPTIONAL = {"invoice_number", "tax_rate", "terms", "electronic", "notes"}
MULTILINE = frozenset({"notes"})


@dataclass
class _Draft:
    first_row: dict[str, str]
    lines: list[tuple[int, dict[str, str]]]


def parse_date(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(column, str(_l("Write dates as YYYY-MM-DD."))) from None


def parse_quantity(text: str, column: str = "quantity") -> Decimal:
    """A line's quantity (shared.money's grammar): `1,5` is refused, not read as 15."""
    try:
        return money.parse_quantity(text)
    except money.NumberError as error:
        raise InputError(column, error.explained(str(_l("Enter a number.")))) from None


def parse_tax_rate(text: str, column: str = "tax_rate") -> int:
    """Basis points from a percentage: `8.25` → 825."""
    message = str(_l("A tax rate is between 0 and 100%."))
    try:
        bp = money.parse_percent_bp(text or "0")
    except money.NumberError as error:
        raise InputError(column, error.explained(message)) from None
    if bp > 10000:
        raise InputError(column, message)
    return bp


def parse_price(text: str, column: str = "unit_price") -> int:
    try:
        return money.parse_amount(text)
    except money.AmountError as error:
        message = _l("Enter an amount in dollars and cents, such as 1,234.56.")
        raise InputError(column, error.explained(str(message))) from None


def _yes(text: str) -> bool:
    return (text or "yes").strip().lower() not in {"no", "n", "false", "0", "paper"}


def import_invoices(data: bytes, *, now: datetime, actor: Actor = SYSTEM) -> ImportResult:
    """Create and issue the invoices of the tenant in scope, or none if any row is wrong."""
    groups: OrderedDict[str, _Draft] = OrderedDict()
    for number, row in read_rows(data, REQUIRED, OPTIONAL):
        key = row.get("invoice_number") or f"#row{number}"
        groups.setdefault(key, _Draft(row, [])).lines.append((number, row))
    customers = dict(db.session.execute(select(Customer.client_number, Customer.id)).all())

    def apply(draft: _Draft) -> None:
        current = {"row": draft.lines[0][0]}
        try:
            _create(draft, current)
        except InputError as error:
            # Point at the row of the failing line, not at the invoice's first row.
            if error.field.startswith("lines."):
                index = int(error.field.split(".")[1])
                current["row"] = draft.lines[index][0]
            error.row = current["row"]  # type: ignore[attr-defined]
            raise

    def _create(draft: _Draft, current: dict[str, int]) -> None:
        cleaned = []
        for number, line in draft.lines:
            current["row"] = number
            cleaned.append((number, clean_row(line, multiline=MULTILINE)))
        row = cleaned[0][1]
        customer_id = customers.get(row["client_number"])
        if customer_id is None:
            raise InputError("client_number", str(_l("No customer has this client number.")))
        lines = []
        for number, line in cleaned:
            current["row"] = number
            lines.append(
                LineInput(
                    line["description"],
                    parse_quantity(line["quantity"]),
                    parse_price(line["unit_price"]),
                    parse_tax_rate(line.get("tax_rate") or "0"),
                )
            )
        current["row"] = draft.lines[0][0]
        invoice = create_invoice(
            customer_id=customer_id,
            number=row.get("invoice_number") or None,
            issue_date=parse_date(row["issue_date"], "issue_date"),
            due_date=parse_date(row["due_date"], "due_date"),
            electronic=_yes(row.get("electronic", "")),
            terms=row.get("terms", ""),
            notes=row.get("notes", ""),
            lines=lines,
            actor=actor,
        )
        open_invoice(invoice, now=now)

    def column_of(field: str) -> str:
        if field.startswith("lines."):
            return field.rsplit(".", 1)[-1]
        return {"number": "invoice_number", "customer_id": "client_number"}.get(field, field)

    # Errors are reported at the row the failing line came from.
    rows = [(draft.lines[0][0], draft) for draft in groups.values()]
    return import_all(rows, apply, column_of)
