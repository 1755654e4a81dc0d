"""The time zone a vendor picks at sign-up: offered with New York first, checked, and kept."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shared.extensions import db
from tenants.models import Tenant
from tests.conftest import submit

SIGN_UP = {
    "business_name": "Globex Corporation",
    "slug": "globex",
    "owner_email": "hank@globex.test",
    "owner_password": "a-long-enough-password",
}


def tenants() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant)))


def test_the_form_offers_the_zones_with_new_york_chosen(console):
    page = console.get("/sign-up").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="time_zone".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option([^>]*)value="([^"]*)"([^>]*)>', select_html)
    names = [value for _before, value, _after in options]
    assert names[:2] == ["America/New_York", "America/Chicago"]  # the common zones first
    assert "Europe/Madrid" in names
    assert "Asia/Tokyo" in names
    chosen = [value for before, value, after in options if "selected" in before + after]
    assert chosen == ["America/New_York"]
    assert "Eastern Time (New York)" in select_html
    assert "guess-time-zone.js" in page
    assert "data-guess-time-zone" in page


def test_sign_up_keeps_the_zone_chosen(app, console):
    response = submit(console, "/sign-up", {**SIGN_UP, "time_zone": "Europe/Madrid"})
    assert response.status_code == 302, response.get_data(as_text=True)
    [tenant] = tenants()
    assert tenant.time_zone == "Europe/Madrid"


def test_a_form_sent_without_the_field_gets_new_york(app, console):
    # A page loaded before the field existed, or a script posting the old form.
    response = submit(console, "/sign-up", SIGN_UP)
    assert response.status_code == 302
    [tenant] = tenants()
    assert tenant.time_zone == "America/New_York"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "Mars/Olympus_Mons",
        "america/new_york",  # names are exact
        "../../../etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "Europe/Madrid\x00",
        "<script>alert(1)</script>",
        "Z" * 5000,
    ],
)
def test_a_wrong_zone_is_refused_and_nothing_is_created(app, console, value):
    response = submit(console, "/sign-up", {**SIGN_UP, "time_zone": value})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    # A NUL is caught first by the clean-text check every form field has, with its own message.
    expected = (
        "Remove the NUL character" if "\x00" in value else "Choose a time zone from the list."
    )
    assert expected in body
    assert "<script>alert(1)</script>" not in body
    assert 'value="Globex Corporation"' in body  # nothing typed is lost
    assert "data-guess-time-zone" not in body  # what was sent is not replaced by a guess
    assert db.session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_spanish_labels(console):
    console.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    page = console.get("/sign-up").get_data(as_text=True)
    assert "Zona horaria" in page
    assert "Hora del Este (Nueva York)" in page
    assert "Puede cambiarla más adelante en la configuración." in page
    response = submit(console, "/sign-up", {**SIGN_UP, "time_zone": "Nowhere/Else"})
    assert "Elija una zona horaria de la lista." in response.get_data(as_text=True)


# --- changed later, in the settings -------------------------------------------------------------


def acme() -> Tenant:
    db.session.expire_all()
    return db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()


def test_the_owner_changes_the_zone_in_the_settings(app, signed_in_console):
    page = signed_in_console.get("/settings/time-zone").get_data(as_text=True)
    assert re.search(r'<option selected value="America/New_York"', page)
    response = submit(signed_in_console, "/settings/time-zone", {"time_zone": "Europe/Madrid"})
    assert response.status_code == 302
    assert acme().time_zone == "Europe/Madrid"
    page = signed_in_console.get("/settings/time-zone").get_data(as_text=True)
    assert "Time zone saved." in page
    assert re.search(r"\bCES?T for your business", page)  # "It is now …" on the Madrid clock


@pytest.mark.parametrize("value", ["", "Nowhere/Else", "Europe/Madrid\x00", "<b>UTC</b>"])
def test_a_wrong_zone_in_the_settings_changes_nothing(app, signed_in_console, value):
    response = submit(signed_in_console, "/settings/time-zone", {"time_zone": value})
    assert response.status_code == 422
    expected = (
        "Remove the NUL character" if "\x00" in value else "Choose a time zone from the list."
    )
    assert expected in response.get_data(as_text=True)
    assert acme().time_zone == "America/New_York"
