"""`flask ach …`: import a bank's return/NOC file for a vendor from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from shared.ach.imports import MAX_IMPORT_BYTES, import_ach_return_file
from shared.actors import SYSTEM
from shared.errors import InputError
from shared.extensions import db
from shared.tenancy import tenant_scope
from shared.unit_of_work import unit_of_work
from tenants.models import Tenant


@click.group("ach", help="ACH files, returns and notifications of change.")
def ach_cli() -> None:
    pass


@ach_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--slug", required=True, help="The vendor the file is for.")
@with_appcontext
def import_(path: str, slug: str) -> None:
    """Apply a return/NOC file once; a malformed file is refused with its line and field."""
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug.strip().lower())).first()
    if tenant is None:
        raise click.UsageError(f"no tenant with the slug {slug!r}")
    with open(path, "rb") as handle:
        data = handle.read(MAX_IMPORT_BYTES + 1)
    try:
        with tenant_scope(tenant.id), unit_of_work():
            done = import_ach_return_file(tenant, SYSTEM, data)
            counts = (done.newly_applied, done.returns, done.changes, done.unmatched)
    except InputError as error:
        raise click.ClickException(f"refused, nothing applied: {error.message}") from None
    newly, returns, changes, unmatched = counts
    if not newly:
        click.echo("this file was imported before; nothing was applied again")
        return
    click.echo(
        f"imported: {returns} returns, {changes} notifications of change, {unmatched} not ours"
    )
