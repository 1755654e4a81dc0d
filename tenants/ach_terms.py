"""The vendor's Terms of Service for bank accounts: the ACH debit authorisation a payer accepts
when adding one, in English and in Spanish. Empty means the default text (shared.bank_accounts);
what a payer accepted is recorded by the hash of the very text shown, so changing it here leaves
earlier authorisations as they were given."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shared.actors import Actor, record
from shared.errors import InputError
from shared.extensions import db
from shared.text import normalise_newlines
from tenants.branding import require_owner
from tenants.models import Tenant

MAX_TERMS_LENGTH = 10_000


def _terms(raw: str, field: str) -> str:
    value = normalise_newlines(raw or "").strip()
    if len(value) > MAX_TERMS_LENGTH:
        raise InputError(field, str(_l("Use at most %(max)d characters.", max=MAX_TERMS_LENGTH)))
    return value


def update_ach_terms(tenant: Tenant, actor: Actor, *, english: str, spanish: str) -> None:
    """Check both texts, then apply them; an empty one goes back to the default."""
    require_owner(actor)
    en = _terms(english, "ach_terms_en")
    es = _terms(spanish, "ach_terms_es")
    tenant.ach_terms_en = en
    tenant.ach_terms_es = es
    record(tenant.id, actor, "tenant.ach_terms_changed", en=bool(en), es=bool(es))
    db.session.flush()
