"""The console's ACH pages: settings (owner only, validated, Spanish), the files list and
download (tenant-scoped: 404 across tenants), the return-file upload (wrong, hostile, oversized),
the return rates; and `flask ach import`."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from shared.ach import build_ach_files, get_settings
from shared.ach.models import AchEntry, AchFile, AchImport
from shared.extensions import db
from shared.payments.models import Payment, PaymentStatus
from shared.tenancy import tenant_scope
from tests.ach.conftest import SETTINGS, AchShop, at
from tests.ach.returnfiles import Item, return_file
from tests.conftest import PASSWORD, submit
from tests.test_branding import make_staff, multipart_post, signed_in, tenant_named

THU = date(2026, 6, 18)
FORM = {
    "immediate_destination": "021000021",
    "immediate_destination_name": "JPMorgan Chase",
    "immediate_origin": "1234567890",
    "immediate_origin_name": "Acme Supply",
    "odfi_routing": "021000021",
    "company_identification": "1234567890",
    "company_name": "Acme Supply",
    "entry_description": "Invoices",
    "cutoff": "15:30",
}


@pytest.fixture
def owner(app, make_tenant):
    """(console client signed in as acme's owner, AchShop of acme)."""
    tenant, user = make_tenant("acme")
    client = signed_in(app, user.email)
    return client, AchShop(tenant_named("acme"), user)


def _settings(slug="acme"):
    tenant = tenant_named(slug)
    with tenant_scope(tenant.id):
        found = get_settings(tenant)
        return None if found is None else (found.odfi_routing, found.cutoff_minutes)


def _with_file(shop: AchShop) -> int:
    customer = shop.customer("business", "Harbor View Dental")
    shop.payment(customer, shop.bank_account(customer), 2500, THU)
    with tenant_scope(shop.tenant.id):
        if get_settings(shop.tenant) is None:
            from shared.ach import update_settings

            update_settings(shop.tenant, shop.owner_actor(), SETTINGS)
        build_ach_files(shop.tenant, at(THU, 18))
        db.session.commit()
        return db.session.scalar(select(AchFile.id).order_by(AchFile.id.desc()))


# --- settings ----------------------------------------------------------------------------------


def test_the_owner_saves_the_ach_settings(owner):
    client, _shop = owner
    page = client.get("/settings/ach")
    assert page.status_code == 200
    assert "routing number (ODFI)" in page.get_data(as_text=True)
    response = submit(client, "/settings/ach", FORM)
    assert response.status_code == 302
    assert _settings() == ("021000021", 15 * 60 + 30)
    page = client.get("/settings/ach").get_data(as_text=True)
    assert 'value="15:30"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("odfi_routing", "021000022", "valid 9-digit routing number"),
        ("immediate_destination", "12345", "valid 9-digit routing number"),
        ("immediate_destination", "", "This field is required"),
        ("company_name", "", "This field is required"),
        ("company_name", "A" * 17, "at most 16 characters"),
        ("company_name", "Ñandú Café", "no accents"),
        ("entry_description", "<script>", "at most 10"),  # 8 chars pass the length…
        ("cutoff", "25:00", "HH:MM"),
        ("cutoff", "9am", "HH:MM"),
        ("immediate_origin", "x" * 5000, "at most 10 characters"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_saved(owner, field, value, message):
    client, _shop = owner
    response = submit(client, "/settings/ach", {**FORM, field: value})
    if field == "entry_description":  # … and are kept as text, shown escaped
        assert response.status_code == 302
        page = client.get("/settings/ach").get_data(as_text=True)
        assert "&lt;SCRIPT&gt;" in page
        assert "<SCRIPT>" not in page
        return
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _settings() is None


def test_a_missing_field_and_a_missing_token_are_refused(owner):
    client, _shop = owner
    without = {k: v for k, v in FORM.items() if k != "odfi_routing"}
    assert submit(client, "/settings/ach", without).status_code == 422
    assert client.post("/settings/ach", data=FORM).status_code == 400  # no CSRF token
    assert _settings() is None


def test_only_the_owner_changes_the_ach_settings(app, make_tenant):
    tenant, _user = make_tenant("acme")
    make_staff(tenant)
    clerk = signed_in(app, "clerk@acme.test")
    page = clerk.get("/settings/ach")
    assert page.status_code == 200
    assert "Only the owner can change the settings" in page.get_data(as_text=True)
    assert submit(clerk, "/settings/ach", FORM).status_code == 403
    assert _settings() is None


def test_settings_are_per_vendor(owner, make_tenant):
    client, _shop = owner
    make_tenant("globex")
    submit(client, "/settings/ach", FORM)
    assert _settings("globex") is None


def test_the_settings_page_in_spanish(owner):
    client, _shop = owner
    submit(client, "/language", {"lang": "es", "next": "/"}, form_path="/")
    page = client.get("/settings/ach").get_data(as_text=True)
    assert "Número de ruta de su banco (ODFI)" in page
    response = submit(client, "/settings/ach", {**FORM, "cutoff": "nope"})
    assert "Escriba una hora como HH:MM" in response.get_data(as_text=True)


def test_signed_out_visitors_see_nothing(app, console):
    assert console.get("/settings/ach").status_code == 302
    assert console.get("/ach-files").status_code == 302
    assert console.get("/ach-files/1/download").status_code == 302


# --- files -------------------------------------------------------------------------------------


def test_the_files_page_lists_and_downloads_the_vendors_files(owner):
    client, shop = owner
    file_id = _with_file(shop)
    page = client.get("/ach-files")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "ach-20260618-A.ach" in body
    assert f"/ach-files/{file_id}/download" in body
    download = client.get(f"/ach-files/{file_id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="ach-20260618-A.ach"'
    lines = download.get_data(as_text=True).splitlines()
    assert lines[0].startswith("101 021000021")
    assert all(len(line) == 94 for line in lines)


def test_another_vendors_file_answers_404(owner, app, make_tenant):
    client, _shop = owner
    tenant, user = make_tenant("globex")
    other = AchShop(tenant_named("globex"), user)
    file_id = _with_file(other)
    assert client.get(f"/ach-files/{file_id}/download").status_code == 404
    assert client.get("/ach-files/999999/download").status_code == 404
    assert client.get("/ach-files/99999999999999999999/download").status_code == 404
    assert "ach-20260618-A.ach" not in client.get("/ach-files").get_data(as_text=True)


def test_the_return_rates_are_shown_against_the_ceilings(owner):
    client, _shop = owner
    body = client.get("/ach-files").get_data(as_text=True)
    for text in ("Unauthorized", "Administrative", "Overall", "0.5%", "3%", "15%"):
        assert text in body


# --- the return-file upload --------------------------------------------------------------------


def _upload(client, data: bytes, name: str = "returns.ach"):
    return multipart_post(
        client,
        "/ach-returns",
        {"file": FileStorage(io.BytesIO(data), filename=name)},
        form_path="/ach-files",
    )


def test_an_uploaded_return_file_is_applied_once(owner):
    client, shop = owner
    _with_file(shop)
    with tenant_scope(shop.tenant.id):
        trace = db.session.scalar(select(AchEntry.trace_number))
    text = return_file([Item(trace, "R01", amount=2500)]).encode()
    response = _upload(client, text)
    assert response.status_code == 302
    page = client.get("/ach-files").get_data(as_text=True)
    assert "1 returns, 0 notifications of change, 0 not ours" in page
    assert _upload(client, text).status_code == 302
    assert "nothing was applied again" in client.get("/ach-files").get_data(as_text=True)
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(Payment.status)) is PaymentStatus.RETURNED
        assert len(db.session.scalars(select(AchImport)).all()) == 1


def test_a_malformed_upload_is_refused_with_line_and_field(owner):
    client, shop = owner
    _with_file(shop)
    response = _upload(client, b"1" * 94 + b"\n")
    assert response.status_code == 422
    assert "line 1, field priority_code" in response.get_data(as_text=True)
    with tenant_scope(shop.tenant.id):
        assert db.session.scalars(select(AchImport)).all() == []
        assert db.session.scalar(select(Payment.status)) is PaymentStatus.PROCESSING


def test_a_missing_empty_or_hostile_upload_is_refused(owner):
    client, _shop = owner
    response = multipart_post(client, "/ach-returns", {}, form_path="/ach-files")
    assert response.status_code == 422
    assert "This field is required" in response.get_data(as_text=True)
    assert _upload(client, b"").status_code == 422
    hostile = _upload(client, b"<script>alert(1)</script>", name="../../etc/passwd")
    assert hostile.status_code == 422
    assert "<script>alert(1)</script>" not in hostile.get_data(as_text=True)
    assert client.post("/ach-returns", data={}).status_code == 400  # no CSRF token


def test_a_50_mb_upload_is_refused(owner):
    client, _shop = owner
    response = _upload(client, b"9" * (50 * 1024 * 1024))
    assert response.status_code == 413


def test_the_files_page_in_spanish(owner):
    client, _shop = owner
    submit(client, "/language", {"lang": "es", "next": "/"}, form_path="/")
    body = client.get("/ach-files").get_data(as_text=True)
    assert "Tasas de devolución" in body
    assert "Importar un archivo de devoluciones o NOC" in body


# --- the command line --------------------------------------------------------------------------


def test_flask_ach_import(owner, app, tmp_path):
    _client, shop = owner
    _with_file(shop)
    with tenant_scope(shop.tenant.id):
        trace = db.session.scalar(select(AchEntry.trace_number))
    path = tmp_path / "returns.ach"
    path.write_text(return_file([Item(trace, "R03", amount=2500)]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ach", "import", str(path), "--slug", "acme"])
    assert result.exit_code == 0, result.output
    assert "imported: 1 returns" in result.output
    again = runner.invoke(args=["ach", "import", str(path), "--slug", "acme"])
    assert "imported before" in again.output
    bad = tmp_path / "bad.ach"
    bad.write_text("hello\n")
    refused = runner.invoke(args=["ach", "import", str(bad), "--slug", "acme"])
    assert refused.exit_code != 0
    assert "line 1" in refused.output
    nobody = runner.invoke(args=["ach", "import", str(path), "--slug", "nobody"])
    assert nobody.exit_code != 0
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(Payment.status)) is PaymentStatus.RETURNED


_ = PASSWORD  # the shared sign-in password (tests.conftest) signs these clients in
