"""`flask tenants …`: create and list vendor businesses from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from shared.errors import InputError
from shared.extensions import db
from shared.tenancy import tenant_scope
from shared.unit_of_work import unit_of_work
from tenants import staff
from tenants.api_keys import create_api_key
from tenants.models import StaffUser, Tenant


@click.group("tenants", help="Vendor businesses.")
def tenants_cli() -> None:
    pass


@tenants_cli.command("create")
@click.option("--slug", required=True, help="Portal address label: <slug>.<PORTAL_DOMAIN>.")
@click.option("--name", required=True, help="Business name shown to payers.")
@click.option("--owner-email", required=True)
@click.option("--owner-password", required=True)
@click.option("--language", default="en", type=click.Choice(["en", "es"]))
@with_appcontext
def create(slug: str, name: str, owner_email: str, owner_password: str, language: str) -> None:
    try:
        with unit_of_work():
            tenant, owner = staff.sign_up_vendor(
                business_name=name,
                slug=slug,
                owner_email=owner_email,
                owner_password=owner_password,
                language=language,
            )
    except InputError as error:
        raise click.UsageError(f"{error.field}: {error.message}") from None
    click.echo(f"created tenant {tenant.slug} (id {tenant.id}) with owner {owner.email}")


@tenants_cli.command("list")
@with_appcontext
def list_() -> None:
    staff_count = (
        select(func.count(StaffUser.id))
        .where(StaffUser.tenant_id == Tenant.id)
        .correlate(Tenant)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Tenant, staff_count).order_by(Tenant.slug).execution_options(all_tenants=True)
    ).all()
    if not rows:
        click.echo("no tenants")
    for tenant, count in rows:
        click.echo(f"{tenant.slug}\t{tenant.name}\t{tenant.status.value}\tstaff={count}")


@tenants_cli.command("api-key")
@click.option("--slug", required=True, help="The tenant whose API the key calls.")
@click.option("--name", default="Command line", show_default=True, help="What the key is for.")
@with_appcontext
def api_key(slug: str, name: str) -> None:
    """Make an API key and print it (on standard output, alone): it is shown only this once."""
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug.strip().lower())).first()
    if tenant is None:
        raise click.UsageError(f"no tenant with the slug {slug!r}")
    with tenant_scope(tenant.id):
        try:
            with unit_of_work():
                made = create_api_key(name)
                label = made.key.name
        except InputError as error:
            raise click.UsageError(f"{error.field}: {error.message}") from None
    click.echo(f"API key {label!r} for {slug}; it is not shown again:", err=True)
    click.echo(made.token)
