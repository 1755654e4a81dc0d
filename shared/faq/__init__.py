"""The portal's FAQ: the default questions (from the vendor seeds, in every language) until the
vendor writes its own, per language, in the console.

Operations act on the tenant in scope, flush, and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import force_locale, format_percent
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from shared.clock import utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.faq.models import FaqEntry
from shared.i18n import LANGUAGES, locale_for
from tenants.models import Tenant

MAX_ENTRIES = 50
MAX_QUESTION = 300
MAX_ANSWER = 5000
DEFAULT_CARD_FEE_BP = 300


@dataclass(frozen=True)
class FaqItem:
    question: str
    answer: str


def card_fee_text(tenant: Tenant) -> str:
    """The vendor's credit-card fee as a percentage in the current locale (3%, 2.5%)."""
    basis_points = getattr(tenant, "card_fee_bp", DEFAULT_CARD_FEE_BP)
    if not isinstance(basis_points, int):
        basis_points = DEFAULT_CARD_FEE_BP
    return format_percent(Decimal(basis_points) / 10000, "#,##0.##%")


def default_faq(tenant: Tenant) -> list[FaqItem]:
    """The seeds' questions and answers, adapted to this vendor, in the current locale."""
    basis_points = getattr(tenant, "card_fee_bp", DEFAULT_CARD_FEE_BP)
    if basis_points == 0:
        fee_answer = _l(
            "No. There is no fee for paying by bank transfer, debit card or credit card."
        )
    else:
        fee_answer = _l(
            "If you pay via a bank transfer or debit card, there is no fee. Payments made with a "
            "credit card will incur a %(percent)s processing fee.",
            percent=card_fee_text(tenant),
        )
    support_email = getattr(tenant, "support_email", None)
    if support_email:
        copy_answer = _l(
            "E-mail our team at %(email)s and someone will be happy to assist.",
            email=support_email,
        )
    else:
        copy_answer = _l(
            "Fill out the form titled “Need assistance?” and someone will be happy to assist."
        )
    items = [
        (
            _l("What payment methods are accepted?"),
            _l("You can pay by ACH, debit card or credit card."),
        ),
        (
            _l("How do I know if I can pay my invoice online?"),
            _l(
                "All invoices – electronic or paper – can be paid online. However, only electronic "
                "invoices can be viewed in PDF form in the portal."
            ),
        ),
        (_l("Does it cost anything extra to pay via the portal?"), fee_answer),
        (
            _l("Can I set up an account?"),
            _l(
                "Yes. Open the link in one of our invoice emails, or look up an invoice by its "
                "number and total, then choose “Sign Up”. With an account you see all your "
                "invoices in one place, and a business can invite colleagues."
            ),
        ),
        (
            _l("I’m having trouble using the portal. Where can I get help?"),
            _l(
                "Simply fill out the form titled “Need assistance?” and one of our team members "
                "will contact you within 1-2 business days."
            ),
        ),
        (_l("I did not receive payment confirmation. How do I get a copy?"), copy_answer),
    ]
    return [FaqItem(str(question), str(answer)) for question, answer in items]


def edited_faq(language: str) -> list[FaqEntry]:
    """The vendor's own entries in this language, in order (empty: not edited)."""
    return list(
        db.session.scalars(
            select(FaqEntry)
            .where(FaqEntry.language == language)
            .order_by(FaqEntry.position, FaqEntry.id)
        )
    )


def faq_for(tenant: Tenant, language: str) -> tuple[list[FaqItem], bool]:
    """What the portal shows in this language, and whether it is the vendor's own text."""
    entries = edited_faq(language)
    if entries:
        return [FaqItem(e.question, e.answer) for e in entries], True
    with force_locale(locale_for(language)):
        return default_faq(tenant), False


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise InputError("language", str(_l("Choose English or Spanish.")))
    return language


def save_faq(language: str, items: list[FaqItem]) -> list[FaqEntry]:
    """Replace the FAQ in this language; items with neither question nor answer are dropped."""
    language = _language(language)
    kept: list[FaqItem] = []
    for index, item in enumerate(items):
        question = " ".join((item.question or "").split())
        answer = (item.answer or "").replace("\r\n", "\n").strip()
        if not question and not answer:
            continue
        if not question:
            raise InputError(f"entries-{index}-question", str(_l("Write the question.")))
        if not answer:
            raise InputError(f"entries-{index}-answer", str(_l("Write the answer.")))
        if len(question) > MAX_QUESTION:
            raise InputError(
                f"entries-{index}-question",
                str(_l("Use at most %(n)d characters.", n=MAX_QUESTION)),
            )
        if len(answer) > MAX_ANSWER:
            raise InputError(
                f"entries-{index}-answer", str(_l("Use at most %(n)d characters.", n=MAX_ANSWER))
            )
        kept.append(FaqItem(question, answer))
    if not kept:
        raise InputError("", str(_l("Keep at least one question, or restore the default FAQ.")))
    if len(kept) > MAX_ENTRIES:
        raise InputError("", str(_l("The FAQ has at most %(n)d questions.", n=MAX_ENTRIES)))
    db.session.execute(delete(FaqEntry).where(FaqEntry.language == language))
    entries = [
        FaqEntry(
            language=language, position=i, question=q.question, answer=q.answer, updated_at=utcnow()
        )
        for i, q in enumerate(kept)
    ]
    db.session.add_all(entries)
    db.session.flush()
    return entries


def restore_default_faq(language: str) -> None:
    db.session.execute(delete(FaqEntry).where(FaqEntry.language == _language(language)))
