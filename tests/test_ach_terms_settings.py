"""The vendor's Terms of Service for bank accounts (the ACH debit authorisation), in English and
Spanish, on the console's settings: empty means the default, shown as a preview; owner only."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from shared import bank_accounts
from tests.conftest import submit
from tests.test_branding import make_staff, signed_in, tenant_named


def save_terms(console, en="", es=""):
    return submit(console, "/settings/terms", {"ach_terms_en": en, "ach_terms_es": es})


def texts(slug="acme"):
    tenant = tenant_named(slug)
    return tenant.ach_terms_en, tenant.ach_terms_es


def test_the_page_previews_the_default_and_is_in_the_settings_nav(app, signed_in_console):
    page = signed_in_console.get("/settings/terms").get_data(as_text=True)
    assert 'id="ach_terms_en"' in page
    assert 'id="ach_terms_es"' in page
    name = tenant_named("acme").name
    assert bank_accounts.default_terms("en", name) in page
    assert bank_accounts.default_terms("es", name) in page
    assert 'href="/settings/terms"' in signed_in_console.get("/settings/fees").get_data(
        as_text=True
    )


def test_the_owner_saves_both_languages_and_the_portal_reads_them(app, signed_in_console):
    response = save_terms(
        signed_in_console,
        en="  You authorise Acme to debit your account.\r\nSecond line.  ",
        es="Usted autoriza a Acme a debitar su cuenta.",
    )
    assert response.status_code == 302
    assert texts() == (
        "You authorise Acme to debit your account.\nSecond line.",
        "Usted autoriza a Acme a debitar su cuenta.",
    )
    tenant = tenant_named("acme")
    assert bank_accounts.terms_for(tenant, "en").startswith("You authorise Acme")
    assert bank_accounts.terms_for(tenant, "es").startswith("Usted autoriza")
    page = signed_in_console.get("/settings/terms").get_data(as_text=True)
    assert "Second line." in page


def test_an_empty_text_goes_back_to_the_default(app, signed_in_console):
    save_terms(signed_in_console, en="Ours.", es="Nuestros.")
    assert save_terms(signed_in_console, en="   ", es="").status_code == 302
    assert texts() == ("", "")
    tenant = tenant_named("acme")
    with app.test_request_context(), force_locale("es"):
        assert bank_accounts.terms_for(tenant, "es") == bank_accounts.default_terms(
            "es", tenant.name
        )
    assert bank_accounts.terms_for(tenant, "en") == bank_accounts.default_terms("en", tenant.name)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"en": "x" * 10_001}, "ach_terms_en", "at most 10000 characters"),
        ({"es": "x" * 10_001}, "ach_terms_es", "at most 10000 characters"),
        ({"en": "Terms\x00"}, "ach_terms_en", "NUL character"),
        ({"es": "Términos\x1b[31m"}, "ach_terms_es", "control character"),
    ],
)
def test_bad_text_is_refused_and_changes_nothing(app, signed_in_console, fields, field, message):
    response = save_terms(signed_in_console, **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert f'id="{field}-error"' in body
    assert texts() == ("", "")


def test_hostile_text_is_kept_as_text(app, signed_in_console):
    assert save_terms(signed_in_console, en="<script>alert(1)</script>").status_code == 302
    page = signed_in_console.get("/settings/terms").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_only_the_owner_changes_the_terms(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    make_staff(tenant)
    clerk = signed_in(app, "clerk@acme.test")
    page = clerk.get("/settings/terms")
    assert page.status_code == 200
    assert "Only the owner can change the settings" in page.get_data(as_text=True)
    assert save_terms(clerk, en="Clerk's terms").status_code == 403
    assert texts() == ("", "")


def test_terms_change_only_the_signed_in_tenant(app, make_tenant, signed_in_console):
    make_tenant("globex")
    assert save_terms(signed_in_console, en="Acme's").status_code == 302
    assert texts("acme") == ("Acme's", "")
    assert texts("globex") == ("", "")


def test_the_terms_form_needs_its_csrf_token(app, signed_in_console):
    response = signed_in_console.post("/settings/terms", data={"ach_terms_en": "No token"})
    assert response.status_code == 400
    assert texts() == ("", "")


def test_the_page_in_spanish(app, signed_in_console):
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    page = signed_in_console.get("/settings/terms").get_data(as_text=True)
    assert "Términos del Servicio en inglés" in page
    assert "El texto predeterminado" in page
