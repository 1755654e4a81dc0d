"""Vendor sign-up, sign-in, sign-out, password reset and staff invitations, through the console."""

import re

import pytest
from sqlalchemy import func, select

from shared.extensions import db
from shared.mail.models import OutboxMessage
from tenants.models import StaffInvitation, StaffRole, StaffUser, Tenant
from tests.conftest import PASSWORD, csrf_token, host_client, submit

SIGN_UP = {
    "business_name": "Globex Corporation",
    "slug": "globex",
    "owner_email": "hank@globex.test",
    "owner_password": "a-long-enough-password",
}


def tenant_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Tenant))


def outbox(to: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == to)
            .order_by(OutboxMessage.id)
            .execution_options(all_tenants=True)
        )
    )


def link_in(message: OutboxMessage) -> str:
    match = re.search(r"http://localhost:8000(/\S+)", message.text_body)
    assert match, message.text_body
    return match.group(1)


# --- sign-up ----------------------------------------------------------------------------------


def test_sign_up_creates_the_tenant_signs_in_and_emails_the_owner(app, console):
    response = submit(console, "/sign-up", SIGN_UP)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = console.get("/")
    assert home.status_code == 200
    assert "Globex Corporation" in home.get_data(as_text=True)
    assert "http://globex.localhost:8000/" in home.get_data(as_text=True)
    [welcome] = outbox("hank@globex.test")
    assert "Globex Corporation" in welcome.subject
    assert "http://localhost:8000/" in welcome.text_body
    portal = host_client(app, "globex.localhost:8000").get("/")
    assert "Globex Corporation" in portal.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "ab", "3 to 63 characters"),
        ("slug", "acme_co", "lower-case letters, digits and hyphens"),
        ("slug", "-acme", "lower-case letters, digits and hyphens"),
        ("slug", "acme-", "lower-case letters, digits and hyphens"),
        ("slug", "xn--acme", "two hyphens"),
        ("slug", "a" * 64, "at most 63 characters"),
        ("slug", "acme.co", "lower-case letters, digits and hyphens"),
        ("slug", "<script>", "lower-case letters, digits and hyphens"),
        ("slug", "www", "is reserved"),
        ("slug", "API", "is reserved"),
        ("slug", "console", "is reserved"),
        ("slug", "admin", "is reserved"),
        ("slug", "mail", "is reserved"),
        ("slug", "", "This field is required"),
        ("owner_email", "not-an-email", "Enter a valid email address"),
        ("owner_email", "a@b", "Enter a valid email address"),
        ("owner_password", "short", "at least 10 characters"),
        ("owner_password", "password123", "too common"),
        ("owner_password", "x" * 10_000, "at most 128 characters"),
        ("business_name", "", "This field is required"),
        ("business_name", "N" * 121, "at most 120 characters"),
    ],
)
def test_sign_up_refuses_bad_input_clearly_and_keeps_what_was_typed(
    app, console, field, value, message
):
    response = submit(console, "/sign-up", {**SIGN_UP, field: value})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message.lower() in body.lower()
    assert tenant_count() == 0
    if field != "business_name":
        assert 'value="Globex Corporation"' in body  # nothing typed is lost


def test_sign_up_refuses_a_taken_slug(app, console, make_tenant):
    make_tenant("globex")
    response = submit(console, "/sign-up", {**SIGN_UP, "slug": "Globex"})
    assert response.status_code == 422
    assert "already taken" in response.get_data(as_text=True)
    assert tenant_count() == 1


def test_sign_up_in_spanish_shows_spanish_errors(app, console):
    console.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    response = submit(console, "/sign-up", {**SIGN_UP, "slug": "www"})
    body = response.get_data(as_text=True)
    assert "está reservada" in body
    assert '<html lang="es">' in body


def test_wrong_or_missing_csrf_token_changes_nothing(app, console):
    console.get("/sign-up")
    for token in ("", "forged-token"):
        response = console.post("/sign-up", data={**SIGN_UP, "csrf_token": token})
        assert response.status_code == 400
        assert "Nothing was changed" in response.get_data(as_text=True)
    assert tenant_count() == 0


def test_a_10_mb_form_post_is_refused_before_it_is_read(app, console):
    token = csrf_token(console, "/sign-up")
    response = console.post(
        "/sign-up", data={**SIGN_UP, "csrf_token": token, "business_name": "x" * (10 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert tenant_count() == 0


# --- sign-in and sign-out -----------------------------------------------------------------------


def test_sign_in_and_out(app, console, make_tenant):
    make_tenant("acme", "Acme Supply Co.")
    assert console.get("/").status_code == 302
    response = submit(console, "/sign-in", {"email": "OWNER@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert "Acme Supply Co." in console.get("/").get_data(as_text=True)
    response = submit(console, "/sign-out", {}, form_path="/")
    assert response.status_code == 302
    assert console.get("/").status_code == 302


def test_sign_out_needs_a_post_with_a_csrf_token(app, signed_in_console):
    assert signed_in_console.get("/sign-out").status_code == 405
    assert signed_in_console.post("/sign-out").status_code == 400
    assert signed_in_console.get("/").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(app, console, make_tenant):
    make_tenant("acme")
    wrong = submit(
        console, "/sign-in", {"email": "owner@acme.test", "password": "wrong-password-123"}
    )
    unknown = submit(
        console, "/sign-in", {"email": "nobody@acme.test", "password": "wrong-password-123"}
    )
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert wrong.status_code == unknown.status_code == 422
    assert "Email or password is incorrect." in strip(wrong)
    assert strip(wrong) == strip(unknown)


def test_sign_in_is_throttled_per_email(app, make_tenant):
    make_tenant("acme")
    statuses = []
    for attempt in range(6):
        client = host_client(app, "localhost:8000")  # a fresh browser each time
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{attempt}"
        statuses.append(
            submit(
                client, "/sign-in", {"email": "owner@acme.test", "password": "wrong-password-1"}
            ).status_code
        )
    assert statuses == [422] * 5 + [429]
    # Even the right password waits now, so guessing gains nothing.
    client = host_client(app, "localhost:8000")
    response = submit(client, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_sign_in_is_throttled_per_address(app, make_tenant):
    make_tenant("acme")
    client = host_client(app, "localhost:8000")
    statuses = [
        submit(
            client, "/sign-in", {"email": f"guess{i}@acme.test", "password": "wrong-password-1"}
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_session_is_rotated_at_sign_in(app, console, make_tenant):
    make_tenant("acme")
    with console.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    before = csrf_token(console, "/sign-in")
    console.post(
        "/sign-in", data={"csrf_token": before, "email": "owner@acme.test", "password": PASSWORD}
    )
    with console.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id", "").startswith("staff:")
    assert csrf_token(console, "/team") != before


def test_session_cookie_flags(app, console, make_tenant):
    make_tenant("acme")
    response = submit(console, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Domain=" not in cookie  # host-only: the console's cookie never reaches a portal


def test_a_staff_session_loads_nobody_on_a_portal_host(app, make_tenant):
    """Even a copied console cookie signs nobody in on a portal host."""
    from flask import g

    from shared.accounts import sessions
    from shared.clock import utcnow
    from shared.extensions import login_manager
    from shared.tenancy import tenant_scope
    from tenants.hosts import Side

    tenant, owner = make_tenant("acme")
    with tenant_scope(tenant.id):
        user = db.session.scalars(select(StaffUser).where(StaffUser.id == owner.id)).one()
        user_id = sessions.start(sessions.SessionKind.STAFF, user, now=utcnow())
        db.session.commit()
    with app.test_request_context("/", headers={"Host": "localhost:8000"}):
        g.side = Side.CONSOLE
        assert login_manager._user_callback(user_id) is not None
        stale = user_id[:-1] + ("A" if user_id[-1] != "A" else "B")
        assert login_manager._user_callback(stale) is None  # a key that has no session
        assert login_manager._user_callback(f"staff:{owner.id}") is None  # a user id is no key
    with app.test_request_context("/", headers={"Host": "acme.localhost:8000"}):
        g.side = Side.PORTAL
        assert login_manager._user_callback(user_id) is None


def test_open_redirect_after_sign_in_is_refused(app, console, make_tenant):
    make_tenant("acme")
    for target in ("https://evil.com/", "//evil.com/", "/\\evil.com", "javascript:alert(1)"):
        client = host_client(app, "localhost:8000")
        token = csrf_token(client, "/sign-in")
        response = client.post(
            f"/sign-in?next={target}",
            data={"csrf_token": token, "email": "owner@acme.test", "password": PASSWORD},
        )
        assert response.headers["Location"] == "/", target


# --- password reset ---------------------------------------------------------------------------


def test_password_reset_by_email(app, console, make_tenant):
    make_tenant("acme")
    response = submit(console, "/forgot-password", {"email": "owner@acme.test"})
    assert "Check your email" in response.get_data(as_text=True)
    [_welcome, reset] = outbox("owner@acme.test")
    path = link_in(reset)
    response = submit(
        console, path, {"password": "brand-new-password-9", "confirm": "brand-new-password-9"}
    )
    assert response.status_code == 302
    assert console.get("/").status_code == 200
    # The link works once.
    assert console.get(path).status_code == 410
    fresh = host_client(app, "localhost:8000")
    assert (
        submit(fresh, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD}).status_code
        == 422
    )
    assert (
        submit(
            fresh, "/sign-in", {"email": "owner@acme.test", "password": "brand-new-password-9"}
        ).status_code
        == 302
    )


def test_password_reset_for_an_unknown_email_looks_the_same(app, console, make_tenant):
    make_tenant("acme")
    known = submit(console, "/forgot-password", {"email": "owner@acme.test"})
    unknown = submit(console, "/forgot-password", {"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == 200
    # The same page, but for the CSRF tokens, which carry the second they were made in.
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(unknown)
    assert outbox("nobody@acme.test") == []


def test_password_reset_refuses_tampered_links_and_bad_passwords(app, console, make_tenant):
    make_tenant("acme")
    submit(console, "/forgot-password", {"email": "owner@acme.test"})
    path = link_in(outbox("owner@acme.test")[-1])
    assert console.get(path[:-3] + "abc").status_code == 410
    mismatch = submit(
        console, path, {"password": "brand-new-password-9", "confirm": "other-password-99"}
    )
    assert mismatch.status_code == 422
    assert "do not match" in mismatch.get_data(as_text=True)
    short = submit(console, path, {"password": "short", "confirm": "short"})
    assert "at least 10 characters" in short.get_data(as_text=True)


def test_changing_the_password_signs_out_other_sessions(app, make_tenant):
    make_tenant("acme")
    laptop, phone = host_client(app, "localhost:8000"), host_client(app, "localhost:8000")
    for client in (laptop, phone):
        submit(client, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    response = submit(
        laptop,
        "/account/password",
        {"password": "another-password-7", "confirm": "another-password-7"},
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302


# --- invitations ------------------------------------------------------------------------------


def test_owner_invites_staff_who_joins_and_signs_in(app, signed_in_console):
    response = submit(signed_in_console, "/team", {"email": "Clerk@Acme.test", "role": "staff"})
    assert response.status_code == 302
    page = signed_in_console.get("/team").get_data(as_text=True)
    assert "clerk@acme.test" in page
    [invitation] = outbox("clerk@acme.test")
    path = link_in(invitation)
    newcomer = host_client(app, "localhost:8000")
    response = submit(
        newcomer,
        path,
        {"name": "Carla Clerk", "password": "clerk-password-1", "confirm": "clerk-password-1"},
    )
    assert response.status_code == 302
    assert "Acme Supply Co." in newcomer.get("/").get_data(as_text=True)
    # Used twice: refused.
    assert host_client(app, "localhost:8000").get(path).status_code == 410
    user = db.session.scalars(
        select(StaffUser)
        .where(StaffUser.email == "clerk@acme.test")
        .execution_options(all_tenants=True)
    ).one()
    assert user.role is StaffRole.STAFF
    # Staff cannot invite.
    response = submit(newcomer, "/team", {"email": "x@acme.test", "role": "owner"})
    assert response.status_code == 422
    assert "Only the owner" in response.get_data(as_text=True)
    count = db.session.scalar(
        select(func.count()).select_from(StaffInvitation).execution_options(all_tenants=True)
    )
    assert count == 1


def test_inviting_someone_already_on_the_team_is_refused(app, signed_in_console):
    response = submit(signed_in_console, "/team", {"email": "owner@acme.test", "role": "staff"})
    assert response.status_code == 422
    assert "already on your team" in response.get_data(as_text=True)
    bad = submit(signed_in_console, "/team", {"email": "not an email", "role": "staff"})
    assert "Enter a valid email address" in bad.get_data(as_text=True)
    hostile = submit(signed_in_console, "/team", {"email": "x@acme.test", "role": "superuser"})
    assert hostile.status_code == 422
