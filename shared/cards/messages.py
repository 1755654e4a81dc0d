"""What the payer reads when a card is refused: one translated sentence per error or decline code."""

from __future__ import annotations

from flask_babel import gettext as _

_MESSAGES = {
    # Typed card details (the tokeniser)
    "missing_number": lambda: _("Enter your card number."),
    "invalid_number": lambda: _("Your card number is not valid."),
    "invalid_expiry": lambda: _("Your card's expiration date is not valid."),
    "expired_card": lambda: _("Your card has expired."),
    "invalid_cvc": lambda: _("Your card's security code is not valid."),
    "invalid_postal_code": lambda: _("Your postal code is not valid."),
    "invalid_source": lambda: _("Your card details have expired. Please enter them again."),
    # Declines (the charge)
    "card_declined": lambda: _("Your card was declined."),
    "insufficient_funds": lambda: _("Your card has insufficient funds."),
    "processing_error": lambda: _(
        "The card processor did not answer. Please try again in a moment."
    ),
}


def card_error_message(code: str | None) -> str:
    """The payer's sentence for a code; a general one for a code we do not know."""
    message = _MESSAGES.get(code or "")
    return message() if message else _("Your card could not be used. Please try another card.")


def known_code(code: str | None) -> bool:
    return (code or "") in _MESSAGES
