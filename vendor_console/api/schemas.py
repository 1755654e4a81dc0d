"""What the REST API accepts and answers, as marshmallow schemas (the OpenAPI document is made
from these same classes).

Input schemas refuse unknown fields (`unknown = RAISE`): a misspelt field is an error, never
silently ignored. Output schemas read the domain's models directly.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema

from shared.customers import MAX_CC
from shared.invoices import MAX_LINES
from shared.invoices.models import InvoiceStatus
from shared.payments.models import PaymentMethod, PaymentStatus
from vendor_console.api.fields import (
    Amount,
    Choice,
    Day,
    Flag,
    Id,
    Instant,
    List,
    Nested,
    Percent,
    Quantity,
    QueryFlag,
    QueryInteger,
    Text,
)

LANGUAGES = ["en", "es"]
KINDS = ["business", "personal"]
STATUSES = [status.value for status in InvoiceStatus]
PAGE_SIZE, MAX_PAGE_SIZE = 50, 100


class ApiSchema(Schema):
    """Base of every input schema: unknown fields are refused, in the caller's language."""

    error_messages = {
        "unknown": _l("This field is not allowed."),
        "type": _l("Send an object (a JSON object)."),
    }

    class Meta:
        unknown = RAISE


# --- customers --------------------------------------------------------------------------------


class CustomerFields(ApiSchema):
    name = Text(max_length=200, blank=False, name=True, metadata={"example": "Harbor View Dental"})
    email = Text(max_length=254, metadata={"format": "email", "example": "ap@harbor.test"})
    client_number = Text(
        max_length=8,
        pattern=("^2[0-9]{7}$", _l("A client number has 8 digits and starts with 2.")),
        metadata={
            "example": "20000042",
            "description": "8 digits starting with 2; allocated when left out.",
        },
    )
    language = Choice(LANGUAGES, metadata={"description": "Language of the customer's emails."})
    kind = Choice(KINDS)
    phone = Text(
        max_length=40,
        pattern=("^[0-9+(). x-]*$", _l("Enter a phone number with digits, spaces and + ( ) -.")),
        metadata={"example": "+1 (305) 555-0100"},
    )
    cc_emails = List(
        Text(max_length=254, blank=False, metadata={"format": "email"}),
        max_items=MAX_CC,
        metadata={"description": "More addresses that receive the customer's invoices."},
    )


class CustomerCreate(CustomerFields):
    name = Text(
        max_length=200, blank=False, name=True, required=True, metadata={"example": "Harbor View"}
    )
    email = Text(
        max_length=254, required=True, metadata={"format": "email", "example": "ap@harbor.test"}
    )


class CustomerPatch(CustomerFields):
    """Only the fields sent change."""


class Customer(Schema):
    id = fields.Integer(required=True)
    client_number = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    cc_emails = fields.Method(
        "_cc_emails", required=True, metadata={"type": "array", "items": {"type": "string"}}
    )
    phone = fields.String(required=True)
    language = fields.String(required=True, metadata={"enum": LANGUAGES})
    kind = fields.String(required=True, metadata={"enum": KINDS})
    archived = fields.Method("_archived", required=True, metadata={"type": "boolean"})
    created_at = Instant(required=True)
    updated_at = Instant(required=True)

    def _cc_emails(self, customer: Any) -> list[str]:
        return [e.strip() for e in customer.cc_emails.split(",") if e.strip()]

    def _archived(self, customer: Any) -> bool:
        return customer.archived_at is not None


class CustomerList(Schema):
    data = fields.List(fields.Nested(Customer), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
    )


# --- invoices ---------------------------------------------------------------------------------


class LineCreate(ApiSchema):
    description = Text(max_length=500, blank=False, required=True)
    quantity = Quantity(required=True)
    unit_price = Amount(required=True)
    tax_rate = Percent(metadata={"description": "Tax in percent, 0 to 100; 0 when left out."})


class InvoiceCreate(ApiSchema):
    customer_id = Id(required=True)
    number = Text(
        max_length=20,
        pattern=(
            "^[A-Za-z0-9][A-Za-z0-9-]{0,19}$",
            _l("Use up to 20 letters, digits and hyphens."),
        ),
        metadata={
            "example": "400123",
            "description": "Allocated (6 digits starting with 4) when left out.",
        },
    )
    issue_date = Day(
        metadata={"description": "The vendor's today, in its time zone, when left out."}
    )
    due_date = Day(required=True)
    electronic = Flag(
        metadata={"description": "Paper invoices have no PDF in the portal. Default true."}
    )
    terms = Text(
        max_length=60,
        metadata={
            "example": "net_30",
            "description": "A code (due_on_receipt, net_7, net_10, net_15, net_30, net_45, net_60,"
            " net_90); 'Net 30' is read as net_30, other text is kept as written.",
        },
    )
    notes = Text(max_length=5000, multiline=True)
    lines = List(Nested(LineCreate), max_items=MAX_LINES, required=True)
    draft = Flag(
        metadata={"description": "Keep it as an editable draft, not issued. Default false."}
    )
    send = Flag(metadata={"description": "Email it to the customer now. Default false."})

    @validates_schema
    def _draft_or_send(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("draft") and data.get("send"):
            raise ValidationError(str(_l("A draft cannot be sent: send one or the other.")), "send")


class VoidRequest(ApiSchema):
    reason = Text(max_length=500, blank=False, required=True)


class Line(Schema):
    description = fields.String(required=True)
    quantity = Quantity(attribute="quantity_milli", required=True)
    unit_price = Amount(attribute="unit_price_cents", required=True)
    tax_rate = Percent(attribute="tax_rate_bp", required=True)
    amount = Amount(attribute="amount_cents", required=True)


class LateFee(Schema):
    period = fields.Integer(
        required=True, metadata={"description": "1 for the first month overdue, 2 for the next…"}
    )
    period_start = Day(required=True, metadata={"description": "First day of that month overdue."})
    kind = fields.String(required=True, metadata={"enum": ["flat", "percent"]})
    rate = Percent(
        attribute="rate_bp",
        required=True,
        metadata={"description": "For a percentage fee, the rate a month; 0.00 for a flat fee."},
    )
    base = Amount(
        attribute="base_cents",
        required=True,
        metadata={"description": "For a percentage fee, the open balance it was taken of."},
    )
    amount = Amount(attribute="amount_cents", required=True)
    assessed_at = Instant(attribute="created_at", required=True)


class Invoice(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    customer_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": STATUSES})
    issue_date = Day(required=True)
    due_date = Day(required=True)
    electronic = fields.Boolean(required=True)
    currency = fields.String(required=True, metadata={"example": "USD"})
    terms = fields.String(
        required=True, metadata={"description": "A terms code such as net_30, or free text."}
    )
    notes = fields.String(required=True)
    total = Amount(attribute="total_cents", required=True)
    late_fees = Amount(
        attribute="late_fee_cents",
        required=True,
        metadata={"description": "Late fees assessed so far (the sum of late_fee_items)."},
    )
    late_fee_items = fields.List(
        fields.Nested(LateFee),
        required=True,
        metadata={"description": "Each late fee assessed by the vendor's policy, oldest first."},
    )
    scheduled = Amount(
        attribute="scheduled_cents",
        required=True,
        metadata={"description": "Allocated by payments not yet executed."},
    )
    processing = Amount(
        attribute="processing_cents",
        required=True,
        metadata={"description": "Allocated by payments submitted and not settled (ACH)."},
    )
    paid = Amount(
        attribute="paid_cents",
        required=True,
        metadata={"description": "Settled money only."},
    )
    balance = Amount(
        attribute="balance_cents",
        required=True,
        metadata={"description": "What is still owed: 0 for drafts and void invoices."},
    )
    void_reason = fields.String(required=True)
    sent_at = Instant(required=True, allow_none=True)
    created_at = Instant(required=True)
    updated_at = Instant(required=True)
    lines = fields.List(fields.Nested(Line), required=True)
    pay_url = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "format": "uri",
            "description": "Signed link that opens the customer's invoices in the portal with no "
            "password; null for drafts and void invoices.",
        },
    )


class InvoiceList(Schema):
    data = fields.List(fields.Nested(Invoice), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


# --- payments ---------------------------------------------------------------------------------

PAYMENT_STATUSES = [status.value for status in PaymentStatus]
PAYMENT_METHODS = [method.value for method in PaymentMethod]


class Allocation(Schema):
    invoice_id = fields.Integer(required=True)
    amount = Amount(attribute="amount_cents", required=True)
    refunded = Amount(
        attribute="refunded_cents",
        required=True,
        metadata={"description": "Refunded so far of this invoice's part."},
    )


class Payment(Schema):
    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": PAYMENT_STATUSES})
    method = fields.String(required=True, metadata={"enum": PAYMENT_METHODS})
    amount = Amount(
        attribute="amount_cents", required=True, metadata={"description": "Sum of allocations."}
    )
    fee = Amount(
        attribute="fee_cents", required=True, metadata={"description": "Card fee (credit only)."}
    )
    total = Amount(
        attribute="total_cents", required=True, metadata={"description": "Charged: amount + fee."}
    )
    pay_on = Day(required=True)
    created_at = Instant(required=True)
    allocations = fields.List(fields.Nested(Allocation), required=True)
    presentment = fields.Integer(
        attribute="place.number",
        required=True,
        metadata={
            "minimum": 1,
            "maximum": 3,
            "description": "Which presentment of its ACH debit this is: 1, or 2 and 3 for a debit "
            "returned R01/R09 and presented again (marked RETRY PYMT).",
        },
    )
    represents = fields.Integer(
        attribute="place.represents",
        required=True,
        allow_none=True,
        metadata={"description": "The payment this one presents again (the one before it)."},
    )
    represented_by = fields.Integer(
        attribute="place.represented_by",
        required=True,
        allow_none=True,
        metadata={"description": "The payment that presents this one again, if any."},
    )


class PaymentList(Schema):
    data = fields.List(fields.Nested(Payment), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


# --- query strings ----------------------------------------------------------------------------


class PageQuery(ApiSchema):
    limit = QueryInteger(
        minimum=1, maximum=MAX_PAGE_SIZE, metadata={"description": "Page size, default 50."}
    )
    cursor = Text(max_length=200, metadata={"description": "`next_cursor` of the previous page."})


class CustomerQuery(PageQuery):
    q = Text(max_length=100, metadata={"description": "Part of a name, email or client number."})
    archived = QueryFlag(metadata={"description": "Archived customers instead of current ones."})
    updated_since = Instant(metadata={"description": "Changed at or after this instant."})


class InvoiceQuery(PageQuery):
    status = Choice(STATUSES)
    customer_id = QueryInteger(minimum=1, maximum=2**31 - 1)
    updated_since = Instant(metadata={"description": "Changed at or after this instant."})


# --- errors -----------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "unprocessable_entity"})
    message = fields.String(required=True, metadata={"description": "In the caller's language."})
    # `fields` would shadow Schema.fields: the attribute has another name, the JSON key is `fields`.
    field_messages = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": 'Messages per field path, e.g. "lines.0.quantity".'},
    )


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class PaymentQuery(PageQuery):
    status = Choice(PAYMENT_STATUSES)
    method = Choice(PAYMENT_METHODS)
    customer_id = QueryInteger(minimum=1, maximum=2**31 - 1)


# --- ACH files and return files ---------------------------------------------------------------


class AchFile(Schema):
    id = fields.Integer(required=True)
    file_name = fields.String(required=True)
    built_on = Day(
        required=True, metadata={"description": "The vendor's business day it was built."}
    )
    effective_date = Day(required=True)
    file_id_modifier = fields.String(required=True)
    entry_count = fields.Integer(required=True)
    total_debit = Amount(attribute="total_debit_cents", required=True)
    sha256 = fields.String(required=True)
    created_at = Instant(required=True)


class AchFileList(Schema):
    data = fields.List(fields.Nested(AchFile), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class AchReturnUpload(ApiSchema):
    content = Text(
        required=True,
        max_length=3_500_000,
        blank=False,
        multiline=True,
        metadata={"description": "The return or NOC file as the bank sent it (NACHA, ASCII)."},
    )


# The request's 4 MB limit bounds it (and says so, as 413); a documented maxLength of millions
# only sends schema-driven clients and fuzzers generating bodies they cannot build.
AchReturnUpload._declared_fields["content"].metadata.pop("maxLength", None)


class AchImport(Schema):
    id = fields.Integer(required=True)
    returns = fields.Integer(required=True)
    changes = fields.Integer(required=True, metadata={"description": "Notifications of change."})
    unmatched = fields.Integer(required=True, metadata={"description": "Entries not ours."})
    already_imported = fields.Boolean(
        required=True,
        metadata={"description": "The same file was imported before: not applied again."},
    )
    created_at = Instant(required=True)


class AchFileQuery(PageQuery):
    pass
