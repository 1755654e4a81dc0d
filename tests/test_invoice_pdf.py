"""The invoice PDF: long descriptions wrap inside their column and push the next line down; the
totals read Subtotal, Tax, Total, late fees, Paid (only when paid) and Amount due."""

import io
from datetime import timedelta
from decimal import Decimal

from shared.customers import create_customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, get_invoice, lines_of, totals_of
from shared.invoices.pdf import render_invoice_pdf
from shared.tenancy import scoped_get, tenant_scope
from tests.conftest import TODAY

LONG = ("Quarterly maintenance of the sterilisation units, including parts and labour; " * 6)[:400]


def _invoice(tenant, lines):
    with tenant_scope(tenant.id):
        customer = create_customer(name="Harbor View Dental", email="ap@harbor.test")
        invoice = create_invoice(
            customer_id=customer.id,
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=30),
            lines=lines,
        )
        db.session.commit()
        return invoice.id


def _render(tenant, invoice_id, **changes):
    from shared.customers.models import Customer

    with tenant_scope(tenant.id):
        invoice = get_invoice(invoice_id)
        for name, value in changes.items():
            setattr(invoice, name, value)
        customer = scoped_get(Customer, invoice.customer_id)
        return render_invoice_pdf(tenant, invoice, customer, lines_of(invoice), language="en")


def _fragments(pdf: bytes) -> list[tuple[float, str]]:
    """Every piece of text on the first page with its baseline height (PDF points, up is more)."""
    from pypdf import PdfReader

    found: list[tuple[float, str]] = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            # Justified lines come back with doubled spaces: compare words, not spacing.
            found.append((round(tm[5] * cm[3] + cm[5], 2), " ".join(text.split())))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


def _y_of(fragments, text):
    """The baseline of the last piece reading `text` (the totals come after the table's header)."""
    ys = [y for y, found in fragments if found == text]
    assert ys, f"{text!r} not in {[f for _, f in fragments]}"
    return ys[-1]


def _last_index(labels, label):
    return len(labels) - 1 - labels[::-1].index(label)


def test_a_long_description_wraps_and_pushes_the_next_line_down(app, make_tenant):
    tenant, _ = make_tenant("acme")
    invoice_id = _invoice(
        tenant,
        [
            LineInput(LONG, Decimal("1"), 10000, tax_rate_bp=1000),
            LineInput("Delivery", Decimal("1"), 4500),
        ],
    )
    fragments = _fragments(_render(tenant, invoice_id))
    texts = [text for _, text in fragments]
    wrapped = [(y, text) for y, text in fragments if text in LONG and len(text) > 10]
    # The 400 characters come back whole, over several lines inside the description column.
    assert " ".join(text for _, text in wrapped) == LONG.strip()
    assert len({y for y, _ in wrapped}) >= 4
    # The first row's amounts sit on its first line; the next row starts below its last line.
    first_line_y = max(y for y, _ in wrapped)
    last_line_y = min(y for y, _ in wrapped)
    assert _y_of(fragments, "$110.00") == first_line_y
    delivery_y = _y_of(fragments, "Delivery")
    assert delivery_y < last_line_y - 10  # a whole 6 mm line (17 pt) lower, not printed over it
    assert texts.index("Delivery") > texts.index(wrapped[-1][1])
    # Nothing else is printed on the baselines of the wrapped lines but the first row's columns.
    for y, _text in wrapped[1:]:
        assert [text for fy, text in fragments if fy == y] == [_text]


def test_totals_read_subtotal_tax_total_then_amount_due(app, make_tenant):
    tenant, _ = make_tenant("acme")
    invoice_id = _invoice(
        tenant,
        [
            LineInput(LONG, Decimal("1"), 10000, tax_rate_bp=1000),
            LineInput("Delivery", Decimal("1"), 4500),
        ],
    )
    fragments = _fragments(_render(tenant, invoice_id))
    labels = [text for _, text in fragments]
    order = [_last_index(labels, label) for label in ("Subtotal", "Tax", "Total", "Amount due")]
    assert order == sorted(order)
    assert "Paid" not in labels  # nothing was paid: no "Paid $0.00"
    assert "Late fees" not in labels
    ys = [_y_of(fragments, label) for label in ("Subtotal", "Total", "Amount due")]
    assert ys == sorted(ys, reverse=True)  # each below the one before, on its own line
    # Each label's amount is on its line: 145.00 net, 10.00 tax, 155.00 total.
    assert _y_of(fragments, "$145.00") == _y_of(fragments, "Subtotal")
    assert _y_of(fragments, "$10.00") == _y_of(fragments, "Tax")
    assert [y for y, text in fragments if text == "$155.00"] == [
        _y_of(fragments, "Total"),
        _y_of(fragments, "Amount due"),
    ]


def test_paid_and_late_fees_show_only_when_there_are_some(app, make_tenant):
    tenant, _ = make_tenant("acme")
    invoice_id = _invoice(tenant, [LineInput("Delivery", Decimal("1"), 4500)])
    fragments = _fragments(_render(tenant, invoice_id, late_fee_cents=500, paid_cents=2000))
    labels = [text for _, text in fragments]
    assert labels.count("Tax") == 1  # the column header only: no line carries tax
    order = [_last_index(labels, label) for label in ("Subtotal", "Total", "Late fees", "Paid")]
    assert order == sorted(order)
    assert _y_of(fragments, "-$20.00") == _y_of(fragments, "Paid")
    assert _y_of(fragments, "$30.00") == _y_of(fragments, "Amount due")


def test_totals_of_adds_up_in_integer_cents(app, make_tenant):
    tenant, _ = make_tenant("acme")
    invoice_id = _invoice(
        tenant,
        [
            LineInput("Gloves", Decimal("3"), 333, tax_rate_bp=825),  # 999 + 82.4175 → 82
            LineInput("Masks", Decimal("1.5"), 1001, tax_rate_bp=0),  # 1501.5 → 1502
        ],
    )
    with tenant_scope(tenant.id):
        invoice = get_invoice(invoice_id)
        totals = totals_of(invoice, lines_of(invoice))
    assert (totals.subtotal_cents, totals.tax_cents, totals.total_cents) == (2501, 82, 2583)
    assert totals.has_tax
    assert all(isinstance(v, int) for v in (totals.subtotal_cents, totals.tax_cents))


def test_scheduled_and_processing_money_have_their_own_lines_and_amount_due_is_the_balance(
    app, make_tenant
):
    tenant, _ = make_tenant("acme")
    invoice_id = _invoice(tenant, [LineInput("Delivery", Decimal("1"), 10000)])
    fragments = _fragments(
        _render(tenant, invoice_id, scheduled_cents=2500, processing_cents=1500, paid_cents=4000)
    )
    labels = [text for _, text in fragments]
    order = [
        _last_index(labels, label)
        for label in ("Total", "Payment scheduled", "Payment processing", "Paid", "Amount due")
    ]
    assert order == sorted(order)
    assert _y_of(fragments, "-$25.00") == _y_of(fragments, "Payment scheduled")
    assert _y_of(fragments, "-$15.00") == _y_of(fragments, "Payment processing")
    assert _y_of(fragments, "-$40.00") == _y_of(fragments, "Paid")  # settled money only
    assert _y_of(fragments, "$20.00") == _y_of(fragments, "Amount due")  # the balance


def test_a_void_invoice_is_due_nothing(app, make_tenant):
    from shared.invoices.models import InvoiceStatus

    tenant, _ = make_tenant("acme")
    invoice_id = _invoice(tenant, [LineInput("Delivery", Decimal("1"), 10000)])
    fragments = _fragments(_render(tenant, invoice_id, status=InvoiceStatus.VOID))
    assert _y_of(fragments, "$0.00") == _y_of(fragments, "Amount due")
