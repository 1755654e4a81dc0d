"""Where a tenant's portal answers: changing its address (the old one redirects for 90 days) and
custom domains (answered once the vendor proves the domain with a DNS TXT record).

Operations take the tenant and the acting staff user, flush, and never commit.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import idna
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from shared.actors import Actor, record
from shared.errors import InputError
from shared.extensions import db
from shared.tenancy import scoped_get
from tenants.branding import require_owner
from tenants.hosts import host_name
from tenants.models import Tenant, TenantDomain, TenantSlugRedirect
from tenants.slugs import normalize_slug, slug_problem

REDIRECT_LIFETIME = timedelta(days=90)
MAX_ACTIVE_REDIRECTS = 3
MAX_DOMAINS = 5
# Someone else's claim that was never proved stops blocking a domain after this long.
UNVERIFIED_CLAIM_LIFETIME = timedelta(days=3)
TXT_PREFIX = "_arportal"

_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


# --- the portal address (slug) ----------------------------------------------------------------


def change_slug(tenant: Tenant, actor: Actor, raw: str, *, now: datetime) -> None:
    """Move the portal to `<new>.<PORTAL_DOMAIN>`; the old address redirects for 90 days."""
    require_owner(actor)
    slug = normalize_slug(raw)
    if slug == tenant.slug:
        raise InputError("slug", str(_l("This is already your portal address.")))
    problem = slug_problem(slug, current_tenant_id=tenant.id, now=now)
    if problem:
        raise InputError("slug", problem)
    active = db.session.scalar(
        select(func.count())
        .select_from(TenantSlugRedirect)
        .where(TenantSlugRedirect.expires_at > now, TenantSlugRedirect.old_slug != slug)
    )
    if active >= MAX_ACTIVE_REDIRECTS:
        # Each change keeps an old name out of others' reach for 90 days: no hoarding of names.
        raise InputError(
            "slug",
            str(
                _l(
                    "Your portal address changed %(n)d times in the last 90 days. "
                    "Please wait before changing it again.",
                    n=MAX_ACTIVE_REDIRECTS,
                )
            ),
        )
    old = tenant.slug
    # Taking back one of our own old addresses ends its redirect; an expired row of anyone, for
    # either name, is only history and gives way.
    db.session.execute(
        delete(TenantSlugRedirect)
        .where(
            TenantSlugRedirect.old_slug.in_([slug, old]),
            (TenantSlugRedirect.tenant_id == tenant.id) | (TenantSlugRedirect.expires_at <= now),
        )
        .execution_options(all_tenants=True, synchronize_session=False)
    )
    tenant.slug = slug
    record(tenant.id, actor, "tenant.slug_changed", old=old, new=slug)
    db.session.add(
        TenantSlugRedirect(tenant_id=tenant.id, old_slug=old, expires_at=now + REDIRECT_LIFETIME)
    )
    db.session.flush()


def active_redirects(now: datetime) -> list[TenantSlugRedirect]:
    """The tenant in scope's old addresses that still redirect."""
    return list(
        db.session.scalars(
            select(TenantSlugRedirect)
            .where(TenantSlugRedirect.expires_at > now)
            .order_by(TenantSlugRedirect.expires_at.desc())
        )
    )


# --- custom domains ---------------------------------------------------------------------------


def _dns_txt(name: str) -> list[str]:
    """The TXT strings published at `name` ([] when there are none)."""
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=5.0)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
        return []
    except dns.exception.Timeout:
        raise TimeoutError(name) from None
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


# Replaced in tests (no real DNS there), and by anyone who needs another resolver.
txt_lookup: Callable[[str], list[str]] = _dns_txt


def _bad_domain() -> InputError:
    return InputError(
        "hostname",
        str(_l("Enter a domain name such as pay.example.com (letters, digits, hyphens and dots).")),
    )


def normalize_domain(raw: str) -> str:
    """A host name as DNS and browsers spell it: lower case, ASCII (punycode), no final dot."""
    value = (raw or "").strip()
    if not value:
        raise InputError("hostname", str(_l("Enter a domain name.")))
    if "://" in value or "/" in value or ":" in value or "@" in value:
        raise InputError(
            "hostname",
            str(_l("Enter the domain name only, without https://, a port or a path.")),
        )
    if value.endswith("."):
        raise InputError("hostname", str(_l("Leave out the final dot.")))
    if not value.isascii():
        try:
            # IDNA 2008 with UTS 46 mapping: what browsers send as the Host header.
            value = idna.encode(value, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise _bad_domain() from None
    value = value.lower()
    if len(value) > 253:
        raise _bad_domain()
    labels = value.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise _bad_domain()
    if not _TLD_RE.match(labels[-1]):
        raise _bad_domain()  # top-level domains are letters (or punycode), never digits
    for label in labels:
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                raise _bad_domain() from None
        elif label[2:4] == "--":
            raise _bad_domain()
    return value


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _platform_domain(hostname: str, *, portal_domain: str, console_host: str) -> bool:
    portal = host_name(portal_domain)
    return (
        hostname in {portal, host_name(console_host), "localhost"}
        or hostname.endswith("." + portal)
        or hostname.endswith(".localhost")
        or _is_ip(hostname)
    )


def txt_record_name(domain: TenantDomain) -> str:
    return f"{TXT_PREFIX}.{domain.hostname}"


def add_domain(
    tenant: Tenant,
    actor: Actor,
    raw: str,
    *,
    portal_domain: str,
    console_host: str,
    now: datetime,
) -> TenantDomain:
    """Claim a custom domain; it answers once `verify_domain` finds its TXT record."""
    require_owner(actor)
    typed = (raw or "").strip().lower()
    if _is_ip(typed.strip("[]")):
        raise InputError("hostname", str(_l("Enter a domain name, not an IP address.")))
    platform = {"portal_domain": portal_domain, "console_host": console_host}
    # Checked on what was typed (`localhost` is no valid custom name either, but this says why)
    # and again on the normalised name (another spelling of the same host).
    if _platform_domain(typed, **platform) or _platform_domain(normalize_domain(raw), **platform):
        raise InputError(
            "hostname",
            str(_l("This address belongs to the platform. Enter a domain your business owns.")),
        )
    hostname = normalize_domain(raw)
    held = db.session.scalars(
        select(TenantDomain)
        .where(TenantDomain.hostname == hostname)
        .execution_options(all_tenants=True)
    ).one_or_none()
    if held is not None:
        if held.tenant_id == tenant.id:
            raise InputError("hostname", str(_l("You have already added this domain.")))
        stale = held.verified_at is None and held.created_at < now - UNVERIFIED_CLAIM_LIFETIME
        if not stale:
            raise InputError("hostname", str(_l("This domain is used by another portal.")))
        # Never proved: a claim on someone else's name must not block its real owner.
        db.session.execute(
            delete(TenantDomain)
            .where(TenantDomain.id == held.id, TenantDomain.verified_at.is_(None))
            .execution_options(all_tenants=True, synchronize_session=False)
        )
        db.session.expunge(held)
    count = db.session.scalar(select(func.count()).select_from(TenantDomain))
    if count >= MAX_DOMAINS:
        raise InputError(
            "hostname",
            str(_l("A portal can have at most %(n)d domains. Remove one first.", n=MAX_DOMAINS)),
        )
    domain = TenantDomain(
        tenant_id=tenant.id,
        hostname=hostname,
        verification_token=f"arportal-verify={secrets.token_hex(16)}",
        created_at=now,
    )
    db.session.add(domain)
    db.session.flush()
    record(tenant.id, actor, "tenant.domain_added", hostname=hostname)
    return domain


def tenant_domains() -> list[TenantDomain]:
    """The tenant in scope's custom domains, verified first."""
    return list(
        db.session.scalars(
            select(TenantDomain).order_by(TenantDomain.verified_at.is_(None), TenantDomain.id)
        )
    )


@dataclass(frozen=True)
class Verification:
    domain: TenantDomain
    verified: bool


def _domain(domain_id: int) -> TenantDomain:
    domain = scoped_get(TenantDomain, domain_id)
    if domain is None:
        raise LookupError(domain_id)  # the view answers 404: another tenant's or no domain
    return domain


def verify_domain(tenant: Tenant, actor: Actor, domain_id: int, *, now: datetime) -> None:
    """Look for the TXT record; mark the domain verified when it holds the token."""
    require_owner(actor)
    domain = _domain(domain_id)
    if domain.verified_at is not None:
        return
    name = txt_record_name(domain)
    try:
        published = txt_lookup(name)
    except (TimeoutError, OSError):
        raise InputError(
            "", str(_l("DNS did not answer for %(name)s. Please try again later.", name=name))
        ) from None
    except Exception:  # noqa: BLE001 - any resolver failure is "not found yet" to the vendor
        published = []
    token = domain.verification_token.encode()
    if not any(secrets.compare_digest(value.strip().encode(), token) for value in published):
        raise InputError(
            "",
            str(
                _l(
                    "We could not find the TXT record %(name)s with your code yet. "
                    "DNS changes can take up to an hour to be seen; try again later.",
                    name=name,
                )
            ),
        )
    domain.verified_at = now
    record(tenant.id, actor, "tenant.domain_verified", hostname=domain.hostname)
    db.session.flush()


def remove_domain(tenant: Tenant, actor: Actor, domain_id: int) -> str:
    """Stop answering on a custom domain; returns its name."""
    require_owner(actor)
    domain = _domain(domain_id)
    hostname = domain.hostname
    record(tenant.id, actor, "tenant.domain_removed", hostname=hostname)
    db.session.delete(domain)
    db.session.flush()
    return hostname
