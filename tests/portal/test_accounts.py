"""Payer accounts: sign-up from a pay link, email confirmation, sign-in and out, password reset,
profile, language; one identity per vendor."""

import re

import pytest
from sqlalchemy import func, select

from shared.customers.models import CustomerKind
from shared.extensions import db
from shared.portal_accounts.models import PortalAccount, PortalRole, PortalUser
from tests.conftest import csrf_token, host_client, submit
from tests.portal.factories import (
    PAYER_PASSWORD,
    add_customer,
    confirm,
    link_path,
    open_as_guest,
    outbox,
    pay_link_path,
    payer,
    sign_in,
    sign_up,
)


def users() -> int:
    return db.session.scalar(
        select(func.count()).select_from(PortalUser).execution_options(all_tenants=True)
    )


SIGN_UP = {
    "email": "pat@harbor.test",
    "password": PAYER_PASSWORD,
    "confirm": PAYER_PASSWORD,
    "kind": "personal",
}


# --- sign-up ----------------------------------------------------------------------------------


def test_sign_up_personal_from_the_pay_link(app, make_shop):
    shop = make_shop(kind=CustomerKind.PERSONAL)
    browser = open_as_guest(app, shop)
    page = browser.get("/sign-up").get_data(as_text=True)
    assert 'value="ap@harbor-acme.test"' in page  # the customer's email, ready to change
    assert "Personal" in page
    assert "Business" in page
    assert "<legend>Account type</legend>" in page
    response = submit(browser, "/sign-up", SIGN_UP)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = browser.get("/").get_data(as_text=True)
    assert "$82,350.57" in home
    assert "Please confirm your email" in home
    assert "Sign Up" not in home  # signed in now
    user = payer("pat@harbor.test")
    assert user.customer_id == shop.customer_id
    assert user.role is PortalRole.ADMIN
    assert user.email_verified_at is None
    account = db.session.scalars(select(PortalAccount).execution_options(all_tenants=True)).one()
    assert account.kind is CustomerKind.PERSONAL
    # The customer's billing address hears of it, so a stranger's sign-up does not go unseen.
    [notice] = outbox("ap@harbor-acme.test", "payer_account_created")
    assert "pat@harbor.test" in notice.text_body
    # Confirming the email removes the banner.
    confirm(app, shop, "pat@harbor.test", browser)
    assert payer("pat@harbor.test").email_verified_at is not None
    assert "Please confirm your email" not in browser.get("/").get_data(as_text=True)


def test_an_unconfirmed_payer_can_sign_in_and_sees_the_banner(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    other = sign_in(app, shop, "pat@harbor.test")
    body = other.get("/").get_data(as_text=True)
    assert "Please confirm your email" in body
    response = submit(other, "/confirm-email", {}, form_path="/")
    assert response.status_code == 302
    assert len(outbox("pat@harbor.test", "payer_confirm_email")) == 2


def test_sign_up_needs_a_link_or_a_lookup(app, make_shop):
    shop = make_shop()
    browser = shop.browser(app)
    page = browser.get("/sign-up")
    assert page.status_code == 200
    assert "first open your invoices" in page.get_data(as_text=True)
    assert 'name="password"' not in page.get_data(as_text=True)
    token = csrf_token(browser, "/")
    response = browser.post("/sign-up", data={**SIGN_UP, "csrf_token": token})
    assert response.status_code == 200
    assert users() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("confirm", "another-password-1", "The two passwords do not match"),
        ("password", "short", "at least 10 characters"),
        ("password", "password123", "too common"),
        ("password", "x" * 10_240, "at most 128 characters"),
        ("email", "not-an-email", "Enter a valid email address"),
        ("email", "", "This field is required"),
        ("kind", "", "Choose Personal or Business"),
        ("kind", "<b>enterprise</b>", "Not a valid choice"),
    ],
)
def test_sign_up_refuses_bad_input_and_keeps_what_was_typed(app, make_shop, field, value, message):
    shop = make_shop()
    browser = open_as_guest(app, shop)
    data = {**SIGN_UP, field: value}
    if field == "password":
        data["confirm"] = value
    response = submit(browser, "/sign-up", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message.lower() in body.lower()
    assert "<b>enterprise</b>" not in body
    assert users() == 0
    if field != "email":
        assert 'value="pat@harbor.test"' in body


def test_sign_up_for_an_email_that_exists_here(app, make_shop):
    shop = make_shop()
    sign_up(app, shop, email="pat@harbor.test")
    other_customer = add_customer(shop.tenant, name="Other Co", email="other@x.test")
    browser = shop.browser(app)
    browser.get(pay_link_path(app, shop.tenant, other_customer))
    response = submit(browser, "/sign-up", {**SIGN_UP, "email": "PAT@harbor.test"})
    assert response.status_code == 422
    assert "An account with this email already exists" in response.get_data(as_text=True)
    assert users() == 1


def test_a_second_sign_up_for_the_same_customer_is_offered_sign_in(app, make_shop):
    shop = make_shop()
    sign_up(app, shop, email="first@harbor.test")
    browser = open_as_guest(app, shop)
    home = browser.get("/").get_data(as_text=True)
    assert "already has a portal account" in home
    page = browser.get("/sign-up")
    assert page.status_code == 409
    body = page.get_data(as_text=True)
    assert "already has a portal account" in body
    assert "invite you as a colleague" in body
    assert 'href="/sign-in"' in body
    token = csrf_token(browser, "/")
    response = browser.post(
        "/sign-up", data={**SIGN_UP, "email": "second@harbor.test", "csrf_token": token}
    )
    assert response.status_code == 409
    assert users() == 1


def test_the_same_email_at_two_vendors_is_two_users(app, make_shop):
    acme, globex = make_shop("acme"), make_shop("globex")
    sign_up(app, acme, email="pat@harbor.test")
    sign_up(app, globex, email="pat@harbor.test")
    rows = db.session.scalars(
        select(PortalUser)
        .where(PortalUser.email == "pat@harbor.test")
        .execution_options(all_tenants=True)
    ).all()
    assert {row.tenant_id for row in rows} == {acme.tenant.id, globex.tenant.id}
    # A password change at one vendor leaves the other alone.
    browser = sign_in(app, acme, "pat@harbor.test")
    response = submit(
        browser,
        "/profile/password",
        {
            "current_password": PAYER_PASSWORD,
            "password": "a-new-acme-password",
            "confirm": "a-new-acme-password",
        },
        form_path="/profile",
    )
    assert response.status_code == 302
    sign_in(app, globex, "pat@harbor.test", PAYER_PASSWORD)
    wrong = submit(
        acme.browser(app), "/sign-in", {"email": "pat@harbor.test", "password": PAYER_PASSWORD}
    )
    assert wrong.status_code == 422


# --- sign-in and sign-out ---------------------------------------------------------------------


def test_sign_in_shows_the_customers_invoices_and_sign_out_ends_it(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    browser = shop.browser(app)
    assert browser.get("/invoices").status_code == 302
    sign_in(app, shop, "Pat@Harbor.test", browser=browser)
    assert "400001" in browser.get("/invoices").get_data(as_text=True)
    response = submit(browser, "/sign-out", {}, form_path="/")
    assert response.status_code == 302
    assert browser.get("/invoices").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    wrong = submit(
        shop.browser(app), "/sign-in", {"email": "pat@harbor.test", "password": "nope-nope-nope"}
    )
    unknown = submit(
        shop.browser(app), "/sign-in", {"email": "who@harbor.test", "password": "nope-nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 422
    assert "Email or password is incorrect." in strip(wrong)
    assert strip(wrong) == strip(unknown)


def test_sign_in_is_throttled_per_email(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    statuses = []
    for attempt in range(6):
        client = shop.browser(app)
        client.environ_base["REMOTE_ADDR"] = f"10.0.3.{attempt}"
        statuses.append(
            submit(
                client, "/sign-in", {"email": "pat@harbor.test", "password": "wrong-pass-1"}
            ).status_code
        )
    assert statuses == [422] * 5 + [429]
    client = shop.browser(app)
    ok = submit(client, "/sign-in", {"email": "pat@harbor.test", "password": PAYER_PASSWORD})
    assert ok.status_code == 429


def test_sign_in_is_throttled_per_address(app, make_shop):
    shop = make_shop()
    client = shop.browser(app)
    statuses = [
        submit(
            client, "/sign-in", {"email": f"g{i}@harbor.test", "password": "wrong-pass-1"}
        ).status_code
        for i in range(11)
    ]
    assert statuses == [422] * 10 + [429]


def test_the_session_rotates_at_sign_in(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    browser = open_as_guest(app, shop)  # a guest grant in the session
    with browser.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    before = csrf_token(browser, "/sign-in")
    browser.post(
        "/sign-in",
        data={"csrf_token": before, "email": "pat@harbor.test", "password": PAYER_PASSWORD},
    )
    with browser.session_transaction() as session:
        assert "planted" not in session
        assert "portal_access" not in session
        assert session["_user_id"].startswith("payer:")
    assert csrf_token(browser, "/profile") != before


def test_remember_me_sets_a_lasting_cookie(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    browser = shop.browser(app)
    response = submit(
        browser,
        "/sign-in",
        {"email": "pat@harbor.test", "password": PAYER_PASSWORD, "remember": "y"},
    )
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember
    assert "Expires=" in remember[0]
    assert "HttpOnly" in remember[0]
    assert "Domain=" not in remember[0]


def test_a_password_change_ends_every_other_session(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    laptop, phone = sign_in(app, shop, "pat@harbor.test"), sign_in(app, shop, "pat@harbor.test")
    response = submit(
        laptop,
        "/profile/password",
        {
            "current_password": PAYER_PASSWORD,
            "password": "brand-new-pass-77",
            "confirm": "brand-new-pass-77",
        },
        form_path="/profile",
    )
    assert response.status_code == 302
    assert laptop.get("/profile").status_code == 200
    assert phone.get("/profile").status_code == 302


def test_password_change_needs_the_current_password_and_a_good_new_one(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop)
    before = payer("pat@harbor.test").password_hash
    for data, message in [
        (
            {
                "current_password": "not-it-at-all",
                "password": "brand-new-pass-77",
                "confirm": "brand-new-pass-77",
            },
            "not your current password",
        ),
        (
            {
                "current_password": PAYER_PASSWORD,
                "password": "brand-new-pass-77",
                "confirm": "brand-new-pass-78",
            },
            "do not match",
        ),
        (
            {"current_password": PAYER_PASSWORD, "password": "x" * 10_240, "confirm": "x" * 10_240},
            "at most 128",
        ),
    ]:
        response = submit(browser, "/profile/password", data, form_path="/profile")
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert payer("pat@harbor.test").password_hash == before


def test_a_payer_session_opens_nothing_on_another_tenants_portal_or_the_console(app, make_shop):
    from flask import g

    from shared.extensions import login_manager
    from shared.tenancy import enter_tenant, leave_tenant
    from tenants.hosts import Side

    acme, globex = make_shop("acme"), make_shop("globex")
    sign_up(app, acme)
    user_id = payer("pat@harbor.test").get_id()
    with app.test_request_context("/", headers={"Host": "acme.localhost:8000"}):
        g.side, g.tenant = Side.PORTAL, acme.tenant
        enter_tenant(acme.tenant.id)
        assert login_manager._user_callback(user_id) is not None
        stale = user_id[:-1] + ("1" if user_id.endswith("0") else "0")  # a token 1 in 16 ends in 0
        assert login_manager._user_callback(stale) is None
        leave_tenant()
    with app.test_request_context("/", headers={"Host": "globex.localhost:8000"}):
        g.side, g.tenant = Side.PORTAL, globex.tenant
        enter_tenant(globex.tenant.id)
        assert login_manager._user_callback(user_id) is None
        leave_tenant()
    with app.test_request_context("/", headers={"Host": "localhost:8000"}):
        g.side = Side.CONSOLE
        assert login_manager._user_callback(user_id) is None


def test_pages_for_payers_send_guests_to_the_portal_sign_in(app, make_shop):
    shop = make_shop()
    response = shop.browser(app).get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/profile")


def test_a_pay_link_for_another_customer_signs_the_payer_out(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop)
    other = add_customer(shop.tenant, name="Blue Ridge Builders", email="ap@blueridge.test")
    browser.get(pay_link_path(app, shop.tenant, other))
    assert browser.get("/profile").status_code == 302  # signed out
    assert "Blue Ridge Builders" in browser.get("/").get_data(as_text=True)
    # Their own link keeps them where they are.
    mine = sign_in(app, shop, "pat@harbor.test")
    assert mine.get(pay_link_path(app, shop.tenant, shop.customer_id)).status_code == 302
    assert mine.get("/profile").status_code == 200


# --- password reset ---------------------------------------------------------------------------


def test_password_reset_by_email(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    browser = shop.browser(app)
    response = submit(browser, "/forgot-password", {"email": "pat@harbor.test"})
    assert "Check your email" in response.get_data(as_text=True)
    [reset] = outbox("pat@harbor.test", "payer_password_reset")
    path = link_path(reset)
    assert path.startswith("/reset-password/")
    response = submit(
        browser, path, {"password": "fresh-password-42", "confirm": "fresh-password-42"}
    )
    assert response.status_code == 302
    assert browser.get("/profile").status_code == 200
    assert payer("pat@harbor.test").email_verified_at is not None  # the link reached the address
    assert browser.get(path).status_code == 410  # once only
    sign_in(app, shop, "pat@harbor.test", "fresh-password-42")


def test_password_reset_answers_the_same_for_an_unknown_email(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    known = submit(shop.browser(app), "/forgot-password", {"email": "pat@harbor.test"})
    unknown = submit(shop.browser(app), "/forgot-password", {"email": "nobody@harbor.test"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(unknown)
    assert outbox("nobody@harbor.test") == []


def test_a_reset_link_works_only_on_its_own_portal_and_untampered(app, make_shop):
    acme, _globex = make_shop("acme"), make_shop("globex")
    sign_up(app, acme)
    submit(acme.browser(app), "/forgot-password", {"email": "pat@harbor.test"})
    path = link_path(outbox("pat@harbor.test", "payer_password_reset")[0])
    assert host_client(app, "globex.localhost:8000").get(path).status_code == 410
    assert acme.browser(app).get(path[:-3] + "abc").status_code == 410
    assert acme.browser(app).get(path).status_code == 200


# --- email confirmation and profile -----------------------------------------------------------


def test_a_tampered_or_foreign_confirmation_link_is_refused(app, make_shop):
    acme, _globex = make_shop("acme"), make_shop("globex")
    sign_up(app, acme)
    path = link_path(outbox("pat@harbor.test", "payer_confirm_email")[0])
    assert acme.browser(app).get(path[:-2] + "xx").status_code == 410
    assert host_client(app, "globex.localhost:8000").get(path).status_code == 410
    assert payer("pat@harbor.test").email_verified_at is None


def test_changing_the_email_applies_when_the_new_address_confirms(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop)
    response = submit(
        browser,
        "/profile/email",
        {"new_email": "Pat.New@harbor.test", "current_password": PAYER_PASSWORD},
        form_path="/profile",
    )
    assert response.status_code == 302
    user = payer("pat@harbor.test")
    assert user.pending_email == "pat.new@harbor.test"
    [message] = outbox("pat.new@harbor.test", "payer_confirm_email")
    browser.get(link_path(message))
    db.session.expire_all()
    user = payer("pat.new@harbor.test")
    assert user.pending_email is None
    assert user.email_verified_at is not None
    assert outbox("pat@harbor.test", "payer_email_changed")
    sign_in(app, shop, "pat.new@harbor.test")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"new_email": "other@harbor.test", "current_password": "not-my-password"},
            "not your current password",
        ),
        (
            {"new_email": "taken@harbor.test", "current_password": PAYER_PASSWORD},
            "Another account uses this email",
        ),
        (
            {"new_email": "pat@harbor.test", "current_password": PAYER_PASSWORD},
            "already your email",
        ),
        (
            {"new_email": "bad address", "current_password": PAYER_PASSWORD},
            "Enter a valid email address",
        ),
    ],
)
def test_an_email_change_refuses_bad_input(app, make_shop, data, message):
    shop = make_shop()
    other = add_customer(shop.tenant, name="Other", email="o@x.test")
    taker = shop.browser(app)
    taker.get(pay_link_path(app, shop.tenant, other))
    submit(taker, "/sign-up", {**SIGN_UP, "email": "taken@harbor.test"})
    browser = sign_up(app, shop)
    response = submit(browser, "/profile/email", data, form_path="/profile")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert payer("pat@harbor.test").pending_email is None


def test_profile_name_and_language_are_saved(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop)
    response = submit(browser, "/profile", {"name": "Pat Jones", "language": "es"})
    assert response.status_code == 302
    user = payer("pat@harbor.test")
    assert (user.name, user.language) == ("Pat Jones", "es")
    bad = submit(browser, "/profile", {"name": "N" * 121, "language": "xx"})
    assert bad.status_code == 422
    assert "at most 120" in bad.get_data(as_text=True) or "máximo" in bad.get_data(as_text=True)


# --- language ---------------------------------------------------------------------------------


def test_a_signed_in_payers_language_is_remembered_on_the_account(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop)
    submit(browser, "/language", {"lang": "es", "next": "/"}, form_path="/")
    assert payer("pat@harbor.test").language == "es"
    other = sign_in(app, shop, "pat@harbor.test")
    body = other.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in body
    assert "Seleccionar/ver facturas y cargos por retraso" in body
    assert "¿Necesita ayuda?" in body


def test_a_spanish_customers_pay_link_opens_the_portal_in_spanish(app, make_shop):
    shop = make_shop(language="es")
    browser = open_as_guest(app, shop)
    body = browser.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in body
    assert "Total pendiente" in body


def test_a_spanish_payer_gets_spanish_errors(app, make_shop):
    shop = make_shop(language="es")
    browser = open_as_guest(app, shop)
    response = submit(browser, "/sign-up", {**SIGN_UP, "confirm": "otra-cosa-distinta"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Las dos contraseñas no coinciden" in body
    assert "Registrarse" in body
