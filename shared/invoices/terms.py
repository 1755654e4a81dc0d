"""Payment terms: stored as a code (``net_30``), shown in the reader's language.

The invoice form and the API also take free text, as they always have: a text that reads as one of
the known terms (``Net 30``, ``Pago a 30 días``, ``net_30``) is stored as its code, anything else
is kept as written and shown as written.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# The codes the invoice form offers, in the order it offers them.
TERMS: dict[str, object] = {
    "due_on_receipt": _l("Due on receipt"),
    "net_7": _l("Net 7"),
    "net_10": _l("Net 10"),
    "net_15": _l("Net 15"),
    "net_30": _l("Net 30"),
    "net_45": _l("Net 45"),
    "net_60": _l("Net 60"),
    "net_90": _l("Net 90"),
}

_NET = re.compile(r"^(?:net|neto|pago a)[\s_-]*(\d{1,3})(?:\s*d[ií]as?)?$", re.IGNORECASE)
_ON_RECEIPT = {"due on receipt", "due_on_receipt", "on receipt", "pago al recibir", "al recibir"}


def terms_code(text: str | None) -> str:
    """The code of a terms text when it is a known one, else the text itself (trimmed, 60 chars)."""
    value = " ".join((text or "").split())[:60]
    if not value:
        return ""
    if value in TERMS:
        return value
    if value.casefold() in _ON_RECEIPT:
        return "due_on_receipt"
    match = _NET.match(value)
    if match and f"net_{int(match.group(1))}" in TERMS:
        return f"net_{int(match.group(1))}"
    for code, label in TERMS.items():  # a label in the current language, as the form shows it
        if value.casefold() == str(label).casefold():
            return code
    return value


def terms_label(value: str | None) -> str:
    """What the reader sees for a stored terms value, in the current language."""
    if not value:
        return ""
    label = TERMS.get(value)
    return str(label) if label is not None else value


def terms_choices() -> list[str]:
    """The labels of the known terms in the current language, for the form's suggestions."""
    return [str(label) for label in TERMS.values()]
