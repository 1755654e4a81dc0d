"""Portal address labels: DNS-label rules, names kept for the platform, one tenant per label."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.clock import utcnow
from shared.extensions import db
from tenants.models import Tenant, TenantSlugRedirect

RESERVED = frozenset(
    """www api console admin administrator mail email smtp imap pop pop3 mx ns ns1 ns2 dns ftp sftp
    ssh vpn app apps portal portals pay payments billing invoice invoices static assets cdn media
    files img images help support status docs blog news about auth login signin signup sign-in
    sign-up account accounts dashboard root system test testing dev staging prod production demo
    localhost internal webmail autodiscover autoconfig""".split()
)
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$")


def normalize_slug(raw: str) -> str:
    # Host names are case-insensitive, so `Acme` and `acme` are one address.
    return (raw or "").strip().lower()


def slug_problem(
    slug: str, *, current_tenant_id: int | None = None, now: datetime | None = None
) -> str | None:
    """Why `slug` cannot be a portal address (translatable), or None."""
    if not slug:
        return str(_l("Choose a portal address."))
    if len(slug) < 3 or len(slug) > 63:
        return str(_l("A portal address has 3 to 63 characters."))
    if not _SLUG_RE.match(slug):
        return str(
            _l(
                "Use only lower-case letters, digits and hyphens, "
                "starting and ending with a letter or digit."
            )
        )
    if slug[2:4] == "--":
        # `xn--` and friends are punycode; a look-alike of another name.
        return str(_l("A portal address cannot have two hyphens in the third and fourth places."))
    if slug in RESERVED:
        return str(_l("“%(slug)s” is reserved. Choose another portal address.", slug=slug))
    taken = db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    if taken is None:
        # A name given up recently still redirects to its tenant's new address: not free yet.
        taken = db.session.scalar(
            select(TenantSlugRedirect.tenant_id)
            .where(
                TenantSlugRedirect.old_slug == slug,
                TenantSlugRedirect.expires_at > (now or utcnow()),
            )
            .execution_options(all_tenants=True)
        )
    if taken is not None and taken != current_tenant_id:
        return str(_l("“%(slug)s” is already taken. Choose another portal address.", slug=slug))
    return None
