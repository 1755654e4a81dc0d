"""Which side, and which tenant, a request's Host header names.

`CONSOLE_HOST` is the vendor console and API; `<slug>.<PORTAL_DOMAIN>` or a verified custom domain is
that tenant's portal; any other host is nobody's. Hosts compare case-insensitively and without their
port, so `PORT=9000 make run` serves `acme.localhost:9000` with no other setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from shared.extensions import db
from tenants.models import Tenant, TenantDomain, TenantSlugRedirect, TenantStatus

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_RE = re.compile(rf"^(?P<name>{_LABEL}(?:\.{_LABEL})*)(?::(?P<port>[0-9]{{1,5}}))?$")
_IPV6_RE = re.compile(r"^\[(?P<name>[0-9a-f:.]+)\](?::(?P<port>[0-9]{1,5}))?$")


class Side(StrEnum):
    CONSOLE = "console"
    PORTAL = "portal"


class BadHost(ValueError):
    """The Host header is empty, malformed or ends with a dot."""


@dataclass(frozen=True)
class Host:
    name: str
    port: int | None


def parse_host(raw: str | None) -> Host:
    """The host name of a Host header, lower-cased and without its port; BadHost if it is unusable."""
    value = (raw or "").strip().lower()
    if not value or len(value) > 260:
        raise BadHost("empty or overlong Host")
    match = _HOST_RE.match(value) or _IPV6_RE.match(value)
    if not match or len(match["name"]) > 253:
        # A trailing dot lands here too: `acme.localhost.` would otherwise be a second spelling of a
        # portal that cookies, CSP and links don't know.
        raise BadHost(f"malformed Host {value!r}")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise BadHost("port out of range")
    return Host(match["name"], port)


def host_name(setting: str) -> str:
    """A configured host (`localhost:8000`) without its port."""
    return parse_host(setting).name


def on_port_of(hostname: str, setting: str) -> str:
    """`hostname` on the port a configured host names: the same server answers every portal host,
    so a custom domain is served on PORTAL_DOMAIN's port (`pay.acme.com:9000` under `make run`)."""
    port = parse_host(setting).port
    return f"{hostname}:{port}" if port else hostname


def side_of(raw_host: str | None, console_host: str) -> Side:
    """Only the console's own name is the console; everything else is looked up as a portal."""
    try:
        return Side.CONSOLE if parse_host(raw_host).name == host_name(console_host) else Side.PORTAL
    except BadHost:
        return Side.PORTAL


def portal_tenant(host: Host, portal_domain: str) -> Tenant | None:
    """The active tenant whose portal this host is, or None. Looks across tenants by design."""
    suffix = "." + host_name(portal_domain)
    if host.name.endswith(suffix):
        slug = host.name.removesuffix(suffix)
        if "." in slug:
            return None
        query = select(Tenant).where(Tenant.slug == slug)
    else:
        query = (
            select(Tenant)
            .join(TenantDomain, TenantDomain.tenant_id == Tenant.id)
            .where(TenantDomain.hostname == host.name, TenantDomain.verified_at.is_not(None))
            .execution_options(all_tenants=True)
        )
    tenant = db.session.scalars(query.where(Tenant.status == TenantStatus.ACTIVE)).one_or_none()
    return tenant


def _slug_of(host: Host, portal_domain: str) -> str | None:
    suffix = "." + host_name(portal_domain)
    slug = host.name.removesuffix(suffix) if host.name.endswith(suffix) else None
    return slug if slug and "." not in slug else None


def moved_portal_host(host: Host, portal_domain: str, now: datetime) -> str | None:
    """Where a portal address given up in the last 90 days now lives (`<new>.<PORTAL_DOMAIN>`)."""
    slug = _slug_of(host, portal_domain)
    if slug is None:
        return None
    new_slug = db.session.scalar(
        select(Tenant.slug)
        .join(TenantSlugRedirect, TenantSlugRedirect.tenant_id == Tenant.id)
        .where(
            TenantSlugRedirect.old_slug == slug,
            TenantSlugRedirect.expires_at > now,
            Tenant.status == TenantStatus.ACTIVE,
        )
        .execution_options(all_tenants=True)
    )
    return f"{new_slug}.{portal_domain}" if new_slug else None


def portal_host(tenant: Tenant, portal_domain: str) -> str:
    """The tenant's portal address for links in emails: its verified custom domain if it has one
    (the first verified), else `<slug>.<PORTAL_DOMAIN>`; either with PORTAL_DOMAIN's port."""
    custom = db.session.scalar(
        select(TenantDomain.hostname)
        .where(TenantDomain.tenant_id == tenant.id, TenantDomain.verified_at.is_not(None))
        .order_by(TenantDomain.verified_at, TenantDomain.id)
        .limit(1)
        .execution_options(all_tenants=True)  # filtered by the tenant given, in scope or not
    )
    return on_port_of(custom, portal_domain) if custom else f"{tenant.slug}.{portal_domain}"
