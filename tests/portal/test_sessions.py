"""Sessions kept on the server: a copied cookie (session or remember-me) is dead after sign-out, a
password change or removal from an account, on the console and on the portal (issue 7, point 2)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shared.accounts.sessions import SignInSession
from shared.extensions import db
from tests.conftest import PASSWORD, host_client, submit
from tests.portal.factories import outbox, payer, sign_in, sign_up

CONSOLE_HOST = "localhost:8000"


def copy_of(app, browser, host: str, *names: str):
    """A second browser holding copies of `browser`'s cookies (what a thief would replay)."""
    thief = host_client(app, browser.host)
    domain = host.split(":")[0]
    for name in names or ("session",):
        cookie = browser.get_cookie(name, domain=domain)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value, domain=domain)
    return thief


def live_sessions() -> int:
    return db.session.scalar(
        select(func.count()).select_from(SignInSession).execution_options(all_tenants=True)
    )


def console_signed_in(app, email: str, *, remember: bool = False):
    browser = host_client(app, CONSOLE_HOST)
    data = {"email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = submit(browser, "/sign-in", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def console_ok(browser) -> bool:
    return browser.get("/").status_code == 200


# --- console ----------------------------------------------------------------------------------


def test_a_copied_console_cookie_is_dead_after_sign_out(app, make_tenant):
    _tenant, owner = make_tenant("acme")
    browser = console_signed_in(app, owner.email)
    thief = copy_of(app, browser, CONSOLE_HOST)
    assert console_ok(thief)  # the copy works while the session lives
    assert live_sessions() == 1
    assert submit(browser, "/sign-out", {}, form_path="/").status_code == 302
    assert live_sessions() == 0
    response = thief.get("/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_a_copied_remember_me_cookie_is_dead_after_sign_out(app, make_tenant):
    _tenant, owner = make_tenant("acme")
    browser = console_signed_in(app, owner.email, remember=True)
    # Only the remember-me cookie: as if the browser was closed and reopened elsewhere.
    thief = copy_of(app, browser, CONSOLE_HOST, "remember_token")
    assert console_ok(thief)
    submit(browser, "/sign-out", {}, form_path="/")
    assert thief.get("/").status_code == 302


def test_a_console_password_change_ends_the_other_sessions_and_keeps_this_one(app, make_tenant):
    _tenant, owner = make_tenant("acme")
    browser = console_signed_in(app, owner.email)
    other = console_signed_in(app, owner.email)
    copied = copy_of(app, browser, CONSOLE_HOST)
    response = submit(
        browser,
        "/account/password",
        {"password": "a-new-password-77", "confirm": "a-new-password-77"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert console_ok(browser)  # the browser that changed it goes on, with a new session
    assert not console_ok(other)
    assert not console_ok(copied)  # its cookie from before the change is dead too
    assert live_sessions() == 1


def test_a_console_password_reset_ends_every_session(app, make_tenant):
    _tenant, owner = make_tenant("acme")
    signed_in = console_signed_in(app, owner.email)
    browser = host_client(app, CONSOLE_HOST)
    submit(browser, "/forgot-password", {"email": owner.email})
    [message] = outbox(owner.email, "staff_password_reset")
    path = re.search(r"http://localhost:8000(/\S+)", message.text_body).group(1)
    response = submit(
        browser, path, {"password": "a-new-password-77", "confirm": "a-new-password-77"}
    )
    assert response.status_code == 302
    assert not console_ok(signed_in)
    assert console_ok(browser)


def test_an_owner_removing_a_staff_member_ends_their_sessions(app, make_tenant):
    from shared.tenancy import tenant_scope
    from tenants.models import StaffRole, StaffUser
    from tenants.staff import _new_staff

    tenant, owner = make_tenant("acme")
    owner_id, owner_email = owner.id, owner.email
    with tenant_scope(tenant.id):
        clerk = _new_staff("clerk@acme.test", PASSWORD, StaffRole.STAFF, "Clerk", "en")
        db.session.add(clerk)
        db.session.commit()
        clerk_id = clerk.id
    clerk_browser = console_signed_in(app, "clerk@acme.test")
    copied = copy_of(app, clerk_browser, CONSOLE_HOST)
    assert console_ok(copied)
    # Staff cannot remove anyone; the owner cannot remove themself; another vendor's id is 404.
    assert (
        submit(clerk_browser, f"/team/{owner_id}/remove", {}, form_path="/team").status_code == 403
    )
    owner_browser = console_signed_in(app, owner_email)
    response = submit(owner_browser, f"/team/{owner_id}/remove", {}, form_path="/team")
    assert "cannot remove yourself" in owner_browser.get(response.headers["Location"]).get_data(
        as_text=True
    )
    make_tenant("globex")
    other = console_signed_in(app, "owner@globex.test")
    assert submit(other, f"/team/{clerk_id}/remove", {}, form_path="/team").status_code == 404
    response = submit(owner_browser, f"/team/{clerk_id}/remove", {}, form_path="/team")
    assert response.status_code == 302
    assert not console_ok(clerk_browser)
    assert not console_ok(copied)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.id == clerk_id)
            .execution_options(all_tenants=True)
        )
        == 0
    )


# --- portal -----------------------------------------------------------------------------------


def portal_ok(browser) -> bool:
    return browser.get("/profile").status_code == 200


def test_a_copied_portal_cookie_is_dead_after_sign_out(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop)
    thief = copy_of(app, browser, shop.host)
    assert portal_ok(thief)
    assert submit(browser, "/sign-out", {}, form_path="/profile").status_code == 302
    response = thief.get("/profile")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_a_copied_portal_remember_me_cookie_is_dead_after_sign_out(app, make_shop):
    shop = make_shop()
    sign_up(app, shop)
    browser = host_client(app, shop.host)
    response = submit(
        browser,
        "/sign-in",
        {"email": "pat@harbor.test", "password": "payer-password-2026", "remember": "y"},
    )
    assert response.status_code == 302
    thief = copy_of(app, browser, shop.host, "remember_token")
    assert portal_ok(thief)
    submit(browser, "/sign-out", {}, form_path="/profile")
    assert not portal_ok(thief)


def test_a_portal_password_change_ends_the_other_sessions(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop)
    other = sign_in(app, shop, "pat@harbor.test")
    copied = copy_of(app, browser, shop.host)
    response = submit(
        browser,
        "/profile/password",
        {
            "current_password": "payer-password-2026",
            "password": "another-payer-pw-9",
            "confirm": "another-payer-pw-9",
        },
        form_path="/profile",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert portal_ok(browser)
    assert not portal_ok(other)
    assert not portal_ok(copied)


def test_a_removed_colleagues_copied_cookie_is_dead(app, make_shop):
    from tests.portal.test_colleagues import invite, join

    shop = make_shop()
    admin = sign_up(app, shop, email="pat@harbor.test")
    invite(admin, "casey@harbor.test", "payer")
    join(app, shop, "casey@harbor.test")
    casey = sign_in(app, shop, "casey@harbor.test", "casey-password-1")
    copied = copy_of(app, casey, shop.host)
    assert portal_ok(copied)
    casey_id = payer("casey@harbor.test").id
    response = submit(admin, f"/colleagues/{casey_id}/remove", {}, form_path="/colleagues")
    assert response.status_code == 302
    assert not portal_ok(casey)
    assert not portal_ok(copied)
    # Only the admin's own sessions are left.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(SignInSession)
            .where(SignInSession.portal_user_id == casey_id)
            .execution_options(all_tenants=True)
        )
        == 0
    )


def test_a_cookie_from_before_server_sessions_signs_nobody_in(app, make_tenant):
    """The old `staff:<id>:<token>` ids (and any made-up id) load nobody."""
    _tenant, owner = make_tenant("acme")
    browser = host_client(app, CONSOLE_HOST)
    with browser.session_transaction() as session:
        session["_user_id"] = f"staff:{owner.id}:{'0' * 32}"
        session["_fresh"] = True
    assert browser.get("/").status_code == 302
