"""What the common ACH return codes mean, for people (the payer's and the vendor's emails, the
console), and which of them count towards each of NACHA's return-rate ceilings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REASONS = {
    "R01": _l("Insufficient funds"),
    "R02": _l("Account closed"),
    "R03": _l("No account, or the account could not be found"),
    "R04": _l("Invalid account number"),
    "R05": _l("Unauthorized debit to a consumer account"),
    "R06": _l("Returned at the originating bank's request"),
    "R07": _l("Authorization revoked by the account holder"),
    "R08": _l("Payment stopped"),
    "R09": _l("Uncollected funds"),
    "R10": _l("The account holder says the debit was not authorized"),
    "R11": _l("The debit did not follow the terms of the authorization"),
    "R16": _l("Account frozen"),
    "R20": _l("The account cannot take this kind of payment"),
    "R29": _l("The business says the debit was not authorized"),
}

# NACHA's return-rate categories (Operating Rules, 2.17.2): the unauthorized and administrative
# codes; every return counts towards the overall rate.
UNAUTHORIZED = frozenset({"R05", "R07", "R10", "R11", "R29", "R51"})
ADMINISTRATIVE = frozenset({"R02", "R03", "R04"})


def reason(code: str) -> str:
    text = REASONS.get(code)
    return f"{code}: {text}" if text is not None else code
