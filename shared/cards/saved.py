"""Saved cards: a payer keeps a card to pay on a later date (a scheduled card payment, AutoPay).

What is kept is what the token told us (brand, funding, last four, expiry) and the gateway's
reusable reference — never a number. Like bank accounts, a private card is its saver's alone: not
listed for colleagues, not usable by them, and its id answers None (a view's 404).
"""

from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from shared.actors import Actor, record
from shared.cards import GatewayRefused, GatewayUnavailable, gateway
from shared.cards.messages import card_error_message
from shared.cards.models import SavedCard
from shared.cards.sandbox import expired
from shared.clock import utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.portal_accounts.models import PortalUser

__all__ = ["SavedCard", "get_usable_card", "remove_card", "save_card", "usable_cards"]


def save_card(
    tenant_id: int, actor: Actor, payer_user: PortalUser, token: str, *, private: bool = False
) -> SavedCard:
    """Save the card behind a token for `payer_user`'s customer. InputError (field `card_token`)
    when the token is not a usable card, or the gateway cannot save it now; nothing is saved."""
    card = gateway().describe(token) if isinstance(token, str) else None
    if card is None:
        raise InputError("card_token", card_error_message("invalid_source"))
    if expired(card.exp_month, card.exp_year, utcnow().date()):
        raise InputError("card_token", card_error_message("expired_card"))
    # The same token saved twice (a double click) is one request to the gateway.
    key = f"save-card:{tenant_id}:{payer_user.id}:{hashlib.sha256(token.encode()).hexdigest()[:32]}"
    try:
        reference = gateway().save(token, idempotency_key=key)
    except GatewayRefused:
        raise InputError("card_token", card_error_message("invalid_source")) from None
    except GatewayUnavailable:
        raise InputError("card_token", card_error_message("processing_error")) from None
    existing = db.session.scalar(
        select(SavedCard).where(
            SavedCard.customer_id == payer_user.customer_id,
            SavedCard.portal_user_id == payer_user.id,
            SavedCard.gateway_reference == reference,
            SavedCard.removed_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    saved = SavedCard(
        tenant_id=tenant_id,
        customer_id=payer_user.customer_id,
        portal_user_id=payer_user.id,
        brand=card.brand,
        funding=card.funding,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        gateway=gateway().name,
        gateway_reference=reference,
        private=bool(private),
    )
    db.session.add(saved)
    db.session.flush()
    record(tenant_id, actor, "saved_card.added", saved_card=saved.id, last4=saved.last4)
    return saved


def _usable(customer_id: int, payer_user: PortalUser):
    today = utcnow().date()
    return select(SavedCard).where(
        SavedCard.customer_id == customer_id,
        SavedCard.removed_at.is_(None),
        SavedCard.gateway == gateway().name,
        or_(SavedCard.portal_user_id == payer_user.id, SavedCard.private.is_(False)),
        or_(
            SavedCard.exp_year > today.year,
            and_(SavedCard.exp_year == today.year, SavedCard.exp_month >= today.month),
        ),
    )


def usable_cards(customer_id: int, payer_user: PortalUser) -> list[SavedCard]:
    """The payer's own saved cards and colleagues' non-private ones, for this customer; not the
    removed or expired ones, nor those another gateway holds."""
    if payer_user.customer_id != customer_id:
        return []
    return list(db.session.scalars(_usable(customer_id, payer_user).order_by(SavedCard.id)))


def get_usable_card(customer_id: int, payer_user: PortalUser, card_id: int) -> SavedCard | None:
    """None for another customer's, another tenant's, a removed, an expired or a colleague's
    private card."""
    if payer_user.customer_id != customer_id or not isinstance(card_id, int):
        return None
    return db.session.scalar(_usable(customer_id, payer_user).where(SavedCard.id == card_id))


def remove_card(tenant_id: int, actor: Actor, card: SavedCard) -> None:
    """Soft removal: the row stays so past payments still name it; it is never charged again."""
    if card.removed_at is None:
        card.removed_at = utcnow()
        db.session.flush()
        record(tenant_id, actor, "saved_card.removed", saved_card=card.id, last4=card.last4)


def card_label(card: SavedCard, viewer: PortalUser | None) -> str:
    """What a viewer sees of a card a payment used: a colleague's private card is only named so."""
    if card.private and (viewer is None or viewer.id != card.portal_user_id):
        return _("a private card")
    return card.masked
