"""Business accounts: the signer-up is admin; colleagues are invited (single use, expiring), given
roles, removed; everyone sees the account's invoices; only an admin manages colleagues."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shared.clock import utcnow
from shared.customers.models import CustomerKind
from shared.extensions import db
from shared.portal_accounts.models import PortalInvitation, PortalRole, PortalUser
from shared.tenancy import tenant_scope
from tests.conftest import csrf_token, host_client, submit
from tests.portal.factories import (
    PAYER_PASSWORD,
    add_customer,
    follow_claim,
    link_path,
    outbox,
    pay_link_path,
    payer,
    request_claim,
    sign_in,
    sign_up,
)

JOIN = {"name": "Casey Clerk", "password": "casey-password-1", "confirm": "casey-password-1"}


def invitations() -> int:
    return db.session.scalar(
        select(func.count()).select_from(PortalInvitation).execution_options(all_tenants=True)
    )


@pytest.fixture
def admin(app, make_shop):
    """A business account whose admin claimed it from a billing address: (shop, browser)."""
    shop = make_shop()
    browser = sign_up(app, shop, email="pat@harbor.test", kind="business")
    assert payer("pat@harbor.test").email_verified  # the claim link reached the address
    return shop, browser


def invite(browser, email, role="payer"):
    return submit(browser, "/colleagues", {"email": email, "role": role})


def join(app, shop, email, data=JOIN):
    [message] = outbox(email, "payer_invitation")[-1:]
    path = link_path(message)
    browser = shop.browser(app)
    return path, browser, submit(browser, path, data)


def test_the_signer_up_of_a_business_account_is_admin_and_invites_a_colleague(app, admin):
    shop, browser = admin
    assert payer("pat@harbor.test").role is PortalRole.ADMIN
    assert "Colleagues" in browser.get("/").get_data(as_text=True)
    response = invite(browser, "Casey@Harbor.test", "payer")
    assert response.status_code == 302
    page = browser.get("/colleagues").get_data(as_text=True)
    assert "casey@harbor.test" in page
    path, casey, joined = join(app, shop, "casey@harbor.test")
    assert joined.status_code == 302
    user = payer("casey@harbor.test")
    assert user.role is PortalRole.PAYER
    assert user.customer_id == shop.customer_id
    assert user.email_verified_at is not None  # the invitation reached the address
    # The colleague sees the same invoices, signed in.
    assert ">400001</a>" in casey.get("/invoices").get_data(as_text=True)
    later = sign_in(app, shop, "casey@harbor.test", "casey-password-1")
    assert ">400002</a>" in later.get("/invoices").get_data(as_text=True)


def test_an_invitation_used_twice_is_refused_clearly(app, admin):
    shop, browser = admin
    invite(browser, "casey@harbor.test")
    path, _casey, joined = join(app, shop, "casey@harbor.test")
    assert joined.status_code == 302
    again = shop.browser(app)
    response = again.get(path)
    assert response.status_code == 410
    assert "already used" in response.get_data(as_text=True)
    token = csrf_token(again, "/")
    response = again.post(path, data={**JOIN, "csrf_token": token})
    assert response.status_code == 410
    assert (
        db.session.scalar(
            select(func.count()).select_from(PortalUser).execution_options(all_tenants=True)
        )
        == 2
    )


def test_an_expired_or_forged_invitation_is_refused(app, admin):
    shop, browser = admin
    invite(browser, "casey@harbor.test")
    [message] = outbox("casey@harbor.test", "payer_invitation")
    path = link_path(message)
    assert shop.browser(app).get(path[:-4] + "AAAA").status_code == 410
    assert host_client(app, "globex.localhost:8000").get(path).status_code == 404  # no such portal
    with tenant_scope(shop.tenant.id):
        record = db.session.scalars(select(PortalInvitation)).one()
        record.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = shop.browser(app).get(path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_an_invitation_opens_nothing_on_another_tenants_portal(app, admin, make_shop):
    shop, browser = admin
    make_shop("globex")
    invite(browser, "casey@harbor.test")
    path = link_path(outbox("casey@harbor.test", "payer_invitation")[0])
    assert host_client(app, "globex.localhost:8000").get(path).status_code == 410


@pytest.mark.parametrize("role", [PortalRole.PAYER, PortalRole.VIEWER])
def test_payers_and_viewers_cannot_invite_or_manage(app, admin, role):
    shop, browser = admin
    invite(browser, "casey@harbor.test", role.value)
    join(app, shop, "casey@harbor.test")
    casey = sign_in(app, shop, "casey@harbor.test", "casey-password-1")
    page = casey.get("/colleagues")
    assert page.status_code == 200
    assert 'name="email"' not in page.get_data(as_text=True)
    assert invite(casey, "eve@harbor.test").status_code == 403
    pat_id = payer("pat@harbor.test").id
    token = csrf_token(casey, "/colleagues")
    assert casey.post(f"/colleagues/{pat_id}/remove", data={"csrf_token": token}).status_code == 403
    assert (
        casey.post(
            f"/colleagues/{pat_id}/role", data={"csrf_token": token, "role": "viewer"}
        ).status_code
        == 403
    )
    assert invitations() == 1
    assert outbox("eve@harbor.test") == []


def test_roles_change_and_a_colleague_is_removed(app, admin):
    shop, browser = admin
    invite(browser, "casey@harbor.test", "viewer")
    join(app, shop, "casey@harbor.test")
    casey_browser = sign_in(app, shop, "casey@harbor.test", "casey-password-1")
    casey = payer("casey@harbor.test")
    response = submit(
        browser, f"/colleagues/{casey.id}/role", {"role": "admin"}, form_path="/colleagues"
    )
    assert response.status_code == 302
    assert payer("casey@harbor.test").role is PortalRole.ADMIN
    bad = submit(
        browser, f"/colleagues/{casey.id}/role", {"role": "owner"}, form_path="/colleagues"
    )
    assert bad.status_code == 422
    response = submit(browser, f"/colleagues/{casey.id}/remove", {}, form_path="/colleagues")
    assert response.status_code == 302
    assert casey_browser.get("/invoices").status_code == 302  # signed out everywhere at once
    with pytest.raises(Exception, match="No row was found"):
        payer("casey@harbor.test")


def test_the_last_admin_stays(app, admin):
    shop, browser = admin
    pat_id = payer("pat@harbor.test").id
    response = submit(
        browser, f"/colleagues/{pat_id}/role", {"role": "payer"}, form_path="/colleagues"
    )
    assert response.status_code == 422
    assert "at least one admin" in response.get_data(as_text=True)
    response = submit(browser, f"/colleagues/{pat_id}/remove", {}, form_path="/colleagues")
    assert response.status_code == 422
    assert "cannot remove yourself" in response.get_data(as_text=True)
    assert payer("pat@harbor.test").role is PortalRole.ADMIN
    # With a second admin, the first may step down.
    invite(browser, "casey@harbor.test", "admin")
    join(app, shop, "casey@harbor.test")
    casey_browser = sign_in(app, shop, "casey@harbor.test", "casey-password-1")
    response = submit(
        casey_browser, f"/colleagues/{pat_id}/role", {"role": "payer"}, form_path="/colleagues"
    )
    assert response.status_code == 302
    assert payer("pat@harbor.test").role is PortalRole.PAYER


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("pat@harbor.test", "payer", "already a colleague"),
        ("not an email", "payer", "Enter a valid email address"),
        ("x" * 250 + "@a.test", "payer", "at most 254 characters"),
        ("casey@harbor.test", "owner", "Not a valid choice"),
        ("", "payer", "This field is required"),
    ],
)
def test_an_invitation_refuses_bad_input(app, admin, email, role, message):
    _shop, browser = admin
    response = invite(browser, email, role)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert invitations() == 0


def test_an_unconfirmed_admin_cannot_invite_yet(app, make_shop):
    """Claimed accounts start confirmed; an admin whose address is not (an account from before
    claiming, say) must confirm it before inviting anyone."""
    shop = make_shop()
    browser = sign_up(app, shop, kind="business")
    with tenant_scope(shop.tenant.id):
        db.session.scalars(select(PortalUser)).one().email_verified_at = None
        db.session.commit()
    response = invite(browser, "casey@harbor.test")
    assert response.status_code == 422
    assert "Confirm your own email address first" in response.get_data(as_text=True)
    assert invitations() == 0


def test_a_personal_account_has_no_colleagues(app, make_shop):
    shop = make_shop(kind=CustomerKind.PERSONAL)
    browser = sign_up(app, shop, kind="personal")
    assert "Colleagues" not in browser.get("/").get_data(as_text=True)
    assert browser.get("/colleagues").status_code == 404
    assert invite(browser, "casey@harbor.test").status_code in (400, 404)


def test_an_invited_email_with_an_account_elsewhere_here_is_told_to_sign_in(app, admin):
    shop, browser = admin
    other = add_customer(shop.tenant, name="Other", email="casey@harbor.test")
    elsewhere = shop.browser(app)
    elsewhere.get(pay_link_path(app, shop.tenant, other))
    request_claim(app, shop, elsewhere, email="casey@harbor.test")
    assert follow_claim(app, shop, "casey@harbor.test", elsewhere).status_code == 302
    assert invite(browser, "casey@harbor.test").status_code == 302  # the admin learns nothing
    _path, _casey, response = join(app, shop, "casey@harbor.test")
    assert response.status_code == 422
    assert "already a portal account with this email" in response.get_data(as_text=True)
    assert payer("casey@harbor.test").customer_id == other


def test_join_refuses_bad_passwords(app, admin):
    shop, browser = admin
    invite(browser, "casey@harbor.test")
    for data, message in [
        ({**JOIN, "confirm": "something-else-1"}, "do not match"),
        ({**JOIN, "password": "x" * 10_240, "confirm": "x" * 10_240}, "at most 128"),
        ({**JOIN, "password": "password123", "confirm": "password123"}, "too common"),
    ]:
        _path, _b, response = join(app, shop, "casey@harbor.test", data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert invitations() == 1


def test_cancelling_an_invitation(app, admin):
    shop, browser = admin
    invite(browser, "casey@harbor.test")
    with tenant_scope(shop.tenant.id):
        record_id = db.session.scalars(select(PortalInvitation.id)).one()
    response = submit(
        browser, f"/colleagues/invitations/{record_id}/cancel", {}, form_path="/colleagues"
    )
    assert response.status_code == 302
    assert invitations() == 0
    _path, _b, response = join(app, shop, "casey@harbor.test")
    assert response.status_code == 410


# --- isolation --------------------------------------------------------------------------------


def test_colleague_urls_answer_404_for_another_customers_or_tenants_ids(app, admin, make_shop):
    shop, browser = admin
    # Another customer of the same vendor, with its own business account and invitation.
    other = add_customer(shop.tenant, name="Other Co", email="olga@other.test")
    other_browser = shop.browser(app)
    other_browser.get(pay_link_path(app, shop.tenant, other))
    request_claim(app, shop, other_browser, email="olga@other.test")
    assert follow_claim(app, shop, "olga@other.test", other_browser).status_code == 302
    invite(other_browser, "oscar@other.test")
    # Another vendor altogether.
    globex = make_shop("globex", email="gus@globex.test")
    globex_browser = sign_up(app, globex, email="gus@globex.test")
    invite(globex_browser, "gina@globex.test")

    olga_id = payer("olga@other.test").id
    gus_id = payer("gus@globex.test").id
    with tenant_scope(shop.tenant.id):
        other_invitation = db.session.scalars(select(PortalInvitation.id)).one()
    with tenant_scope(globex.tenant.id):
        globex_invitation = db.session.scalars(select(PortalInvitation.id)).one()
    token = csrf_token(browser, "/colleagues")
    for user_id in (olga_id, gus_id):
        assert (
            browser.post(f"/colleagues/{user_id}/remove", data={"csrf_token": token}).status_code
            == 404
        )
        assert (
            browser.post(
                f"/colleagues/{user_id}/role", data={"csrf_token": token, "role": "viewer"}
            ).status_code
            == 404
        )
    for invitation_id in (other_invitation, globex_invitation):
        response = browser.post(
            f"/colleagues/invitations/{invitation_id}/cancel", data={"csrf_token": token}
        )
        assert response.status_code == 404
    assert invitations() == 2
    assert payer("olga@other.test").role is PortalRole.ADMIN


def test_the_colleagues_page_lists_only_this_account(app, admin):
    shop, browser = admin
    other = add_customer(shop.tenant, name="Other Co", email="o@x.test")
    other_browser = shop.browser(app)
    other_browser.get(pay_link_path(app, shop.tenant, other))
    submit(
        other_browser,
        "/sign-up",
        {
            "email": "olga@other.test",
            "password": PAYER_PASSWORD,
            "confirm": PAYER_PASSWORD,
            "kind": "business",
        },
    )
    page = browser.get("/colleagues").get_data(as_text=True)
    assert "pat@harbor.test" in page
    assert "olga@other.test" not in page


def test_the_colleagues_page_runs_the_same_queries_for_2_or_12_people(app, admin, count_queries):
    _shop, browser = admin

    def queries():
        with count_queries() as counter:
            assert browser.get("/colleagues").status_code == 200
        return counter.count

    invite(browser, "a1@harbor.test")
    few = queries()
    for i in range(10):
        invite(browser, f"b{i}@harbor.test", "viewer")
    assert queries() == few
