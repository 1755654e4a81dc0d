"""The console's reminder settings: which reminders go out, how many days before, how often and how
many times when overdue; checked, owner-only, per tenant, in both languages."""

from __future__ import annotations

import pytest

from shared.extensions import db
from shared.invoices.reminders import Schedule, schedule_of
from shared.tenancy import leave_tenant, tenant_scope
from tests.conftest import submit
from tests.test_branding import make_staff, signed_in, tenant_named

ALL_ON = {
    "before_enabled": "y",
    "before_days": "3",
    "due_enabled": "y",
    "overdue_enabled": "y",
    "overdue_every_days": "7",
    "overdue_max": "3",
}


def save(console, **fields):
    data = {**ALL_ON, **fields}
    return submit(console, "/settings/reminders", {k: v for k, v in data.items() if v is not None})


def schedule(slug="acme") -> Schedule:
    tenant = tenant_named(slug)
    with tenant_scope(tenant.id):
        found = schedule_of(tenant)
    leave_tenant()
    db.session.remove()
    return found


def test_the_defaults_are_shown_and_kept(app, signed_in_console):
    assert schedule() == Schedule(True, 3, True, True, 7, 3)
    page = signed_in_console.get("/settings/reminders").get_data(as_text=True)
    assert 'id="before_days"' in page
    assert 'value="3"' in page
    assert 'value="7"' in page
    assert page.count("checked") == 3
    assert 'href="/settings/reminders" aria-current="page"' in page


def test_choices_are_saved(app, signed_in_console):
    response = save(
        signed_in_console,
        before_days=" 10 ",
        due_enabled=None,
        overdue_every_days="14",
        overdue_max="12",
    )
    assert response.status_code == 302
    assert schedule() == Schedule(True, 10, False, True, 14, 12)
    page = signed_in_console.get("/settings/reminders").get_data(as_text=True)
    assert 'value="10"' in page
    assert "Reminder settings saved." in page


def test_a_switched_off_reminder_keeps_its_number_when_left_empty(app, signed_in_console):
    save(signed_in_console, before_days="5")
    response = save(
        signed_in_console,
        before_enabled=None,
        before_days="",
        overdue_enabled=None,
        overdue_every_days="",
        overdue_max="",
    )
    assert response.status_code == 302
    assert schedule() == Schedule(False, 5, True, False, 7, 3)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"before_days": ""}, "before_days"),  # on, so needed
        ({"before_days": "0"}, "before_days"),
        ({"before_days": "61"}, "before_days"),
        ({"before_days": "-1"}, "before_days"),
        ({"before_days": "1.5"}, "before_days"),
        ({"before_days": "1e1"}, "before_days"),
        ({"before_days": "٣"}, "before_days"),  # an Arabic-Indic three: not a digit we read
        ({"before_days": "3;DROP--"}, "before_days"),
        ({"overdue_every_days": "91"}, "overdue_every_days"),
        ({"overdue_every_days": "NaN"}, "overdue_every_days"),
        ({"overdue_every_days": ""}, "overdue_every_days"),
        ({"overdue_max": "13"}, "overdue_max"),
        ({"overdue_max": "0"}, "overdue_max"),
        ({"overdue_max": "<script>"}, "overdue_max"),
        # Off, but a wrong number given is still refused rather than silently kept.
        ({"before_enabled": None, "before_days": "999"}, "before_days"),
    ],
)
def test_wrong_numbers_are_refused_and_change_nothing(app, signed_in_console, fields, field):
    response = save(signed_in_console, **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a whole number from 1 to" in body
    assert f'id="{field}-error"' in body
    assert "&lt;script&gt;" in body or "<script>" not in body
    assert schedule() == Schedule()


def test_oversized_input_is_refused(app, signed_in_console):
    response = save(signed_in_console, before_days="1" * 5000)
    assert response.status_code == 422
    assert "at most 10 characters" in response.get_data(as_text=True)
    assert schedule() == Schedule()


def test_errors_in_spanish(app, signed_in_console):
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    page = signed_in_console.get("/settings/reminders").get_data(as_text=True)
    assert "Recordatorios de pago" in page
    assert "Recordar a los clientes antes de la fecha de vencimiento" in page
    body = save(signed_in_console, overdue_max="99").get_data(as_text=True)
    assert "Ingrese un número entero de 1 a 12." in body


def test_only_the_owner_changes_reminders(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    make_staff(tenant)
    clerk = signed_in(app, "clerk@acme.test")
    page = clerk.get("/settings/reminders")
    assert page.status_code == 200
    assert "disabled" in page.get_data(as_text=True)
    assert save(clerk, before_days="9").status_code == 403
    assert schedule() == Schedule()


def test_reminders_change_only_the_signed_in_tenant(app, make_tenant, signed_in_console):
    make_tenant("globex")
    assert save(signed_in_console, before_days="9").status_code == 302
    assert schedule("acme").before_days == 9
    assert schedule("globex") == Schedule()


def test_the_form_needs_its_csrf_token(app, signed_in_console):
    response = signed_in_console.post("/settings/reminders", data=ALL_ON)
    assert response.status_code == 400
    assert schedule() == Schedule()


def test_signed_out_is_sent_to_sign_in(app, console):
    response = console.get("/settings/reminders")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
