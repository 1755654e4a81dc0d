"""The invoice as a PDF: branded, in the customer's language, money and dates in their locale."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF

from shared.customers.models import Customer
from shared.i18n import locale_for
from shared.invoices import totals_of
from shared.invoices.late_fees import LateFee, itemised_late_fees
from shared.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from shared.invoices.terms import terms_label
from shared.money import cents_to_decimal
from tenants.models import LateFeeKind, Tenant

_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]
_DEFAULT_BRAND = "#1d4ed8"


def _font_file(name: str) -> Path | None:
    for directory in _FONT_DIRS:
        path = directory / name
        if path.exists():
            return path
    return None


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class _InvoicePdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="Letter", unit="mm")
        regular, bold = _font_file("DejaVuSans.ttf"), _font_file("DejaVuSans-Bold.ttf")
        if regular and bold:
            # A Unicode font: names in any script print as typed.
            self.add_font("Body", "", str(regular))
            self.add_font("Body", "B", str(bold))
            self.family = "Body"
        else:  # pragma: no cover - Debian's fonts-dejavu-core is on every machine we use
            self.family = "Helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def text_safe(self, text: str) -> str:
        if self.family == "Helvetica":  # pragma: no cover
            return text.encode("latin-1", "replace").decode("latin-1")
        return text


def render_invoice_pdf(
    tenant: Tenant,
    invoice: Invoice,
    customer: Customer,
    lines: list[InvoiceLine],
    *,
    language: str,
    logo: bytes | None = None,
    pay_link: str | None = None,
    late_fees: list[LateFee] | None = None,
) -> bytes:
    """The invoice PDF, in `language`; its late fees one row each (read from the database unless
    given)."""
    locale = locale_for(language)
    brand = getattr(tenant, "brand_color", None) or _DEFAULT_BRAND
    # Text on the brand colour, and the name on white, stay readable with a light brand colour.
    on_brand = getattr(tenant, "brand_text_color", None) or "#ffffff"
    name_color = brand if on_brand == "#ffffff" else "#1f2933"

    def money(cents: int) -> str:
        return format_currency(cents_to_decimal(cents), invoice.currency, locale=locale)

    def day(value: date) -> str:
        return format_date(value, "medium", locale=locale)

    with force_locale(locale):
        pdf = _InvoicePdf()
        heading = _("Invoice %(number)s", number=invoice.number)
        pdf.set_title(heading)
        pdf.set_author(tenant.name)
        pdf.add_page()
        family = pdf.family
        t = pdf.text_safe

        if logo:
            try:
                pdf.image(io.BytesIO(logo), x=18, y=14, h=16)
                pdf.set_y(34)
            except Exception:  # noqa: BLE001 - a broken logo must not stop the invoice
                pdf.set_y(18)
        pdf.set_font(family, "B", 18)
        pdf.set_text_color(*_rgb(name_color))
        pdf.cell(0, 9, t(tenant.name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(31, 41, 51)
        support = " · ".join(
            x
            for x in (getattr(tenant, "support_email", ""), getattr(tenant, "support_phone", ""))
            if x
        )
        if support:
            pdf.set_font(family, "", 9)
            pdf.cell(0, 5, t(support), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

        pdf.set_font(family, "B", 14)
        pdf.cell(0, 8, t(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        facts = [
            (_("Invoice date"), day(invoice.issue_date)),
            (_("Due date"), day(invoice.due_date)),
            (_("Client number"), customer.client_number),
        ]
        if invoice.terms:
            facts.append((_("Terms"), terms_label(invoice.terms)))
        for label, value in facts:
            pdf.cell(40, 6, t(label))
            pdf.cell(0, 6, t(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font(family, "B", 10)
        pdf.cell(0, 6, t(_("Bill to")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        pdf.cell(0, 6, t(customer.name), new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, t(customer.email), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(5)

        widths = (74, 22, 34, 18, 31)
        headers = (_("Description"), _("Quantity"), _("Unit price"), _("Tax"), _("Amount"))
        pdf.set_font(family, "B", 9)
        pdf.set_fill_color(*_rgb(brand))
        pdf.set_text_color(*_rgb(on_brand))
        for width, header, align in zip(widths, headers, "LRRRR", strict=True):
            pdf.cell(width, 7, t(header), border=0, align=align, fill=True)
        pdf.ln()
        pdf.set_text_color(31, 41, 51)
        pdf.set_font(family, "", 9)
        for line in lines:
            quantity = format_decimal(Decimal(line.quantity_milli) / 1000, locale=locale)
            tax = format_percent(Decimal(line.tax_rate_bp) / 10000, "#,##0.##%", locale=locale)
            row = (
                line.description,
                quantity,
                money(line.unit_price_cents),
                tax,
                money(line.amount_cents),
            )
            # Measure the wrapped description first: the row is as tall as its lines, so the next
            # row starts below it (and a row that would not fit starts on a new page, whole).
            wrapped = pdf.multi_cell(widths[0], 6, t(row[0]), dry_run=True, output="LINES")
            height = 6 * max(len(wrapped), 1)
            if pdf.will_page_break(height):
                pdf.add_page()
            y = pdf.get_y()
            pdf.multi_cell(widths[0], 6, t(row[0]), new_x="RIGHT", new_y="TOP")
            for width, value in zip(widths[1:], row[1:], strict=True):
                pdf.cell(width, 6, t(value), align="R")
            pdf.set_y(y + height)
            pdf.set_draw_color(228, 231, 235)
            pdf.line(18, pdf.get_y(), 18 + sum(widths), pdf.get_y())
        pdf.ln(3)

        totals = totals_of(invoice, lines)
        summary = [(_("Subtotal"), totals.subtotal_cents)]
        if totals.has_tax:
            summary.append((_("Tax"), totals.tax_cents))
        summary.append((_("Total"), totals.total_cents))
        fees = itemised_late_fees(invoice) if late_fees is None else late_fees
        for fee in fees:
            label = _(
                "Late fee, month %(period)d overdue (from %(start)s)",
                period=fee.period,
                start=day(fee.period_start),
            )
            if fee.kind is LateFeeKind.PERCENT:
                rate = format_percent(Decimal(fee.rate_bp) / 10000, "#,##0.##%", locale=locale)
                label += ": " + _("%(rate)s of %(base)s", rate=rate, base=money(fee.base_cents))
            summary.append((label, fee.amount_cents))
        if invoice.late_fee_cents and not fees:
            summary.append((_("Late fees"), invoice.late_fee_cents))
        # Money on its way has its own lines: "Paid" is only money actually received, and the
        # lines add up to the amount due (the balance the portal shows).
        if invoice.scheduled_cents > 0:
            summary.append((_("Payment scheduled"), -invoice.scheduled_cents))
        if invoice.processing_cents > 0:
            summary.append((_("Payment processing"), -invoice.processing_cents))
        if invoice.paid_cents > 0:
            summary.append((_("Paid"), -invoice.paid_cents))
        # The balance (owed_cents: less every payment's money); a void invoice asks for nothing.
        due = 0 if invoice.status is InvoiceStatus.VOID else invoice.owed_cents
        summary.append((_("Amount due"), due))
        for index, (label, cents) in enumerate(summary):
            last = index == len(summary) - 1
            pdf.set_font(family, "B" if last else "", 11 if last else 10)
            pdf.cell(sum(widths[:-1]), 7, t(label), align="R")
            pdf.cell(widths[-1], 7, t(money(cents)), align="R", new_x="LMARGIN", new_y="NEXT")

        if invoice.notes:
            pdf.ln(4)
            pdf.set_font(family, "", 9)
            pdf.multi_cell(0, 5, t(invoice.notes))
        if pay_link:
            pdf.ln(4)
            pdf.set_font(family, "B", 10)
            pdf.cell(
                0,
                6,
                t(_("Pay Invoice Electronically")),
                new_x="LMARGIN",
                new_y="NEXT",
                link=pay_link,
            )
            pdf.set_font(family, "", 8)
            pdf.multi_cell(0, 4, t(pay_link))
        return bytes(pdf.output())
