"""The payer's Auto Pay pages, as the seed: the gear menu's "Auto Pay is off" → Edit → "Automatically
Pay Bills" → "Maximum Payment Amount" → the bank account (only when there are several) → the
business days before or after the due date → Save; who may change it; every bad input refused and
nothing saved; the skip link; the stops from the bank account pages; tenants apart."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shared import autopay
from shared.autopay.models import AutoPayItem, AutoPaySetting
from shared.bank_accounts.models import BankAccount
from shared.extensions import db
from shared.payments.models import MadeBy, Payment, PaymentStatus
from shared.tenancy import tenant_scope
from tests.autopay.world import at, copy_row, mails
from tests.conftest import csrf_token, submit
from tests.portal.factories import join_as_colleague, link_path, open_as_guest, payer, sign_up
from tests.portal.test_bank_account_pages import add

ON = {"enabled": "y", "max_amount": "50,000.00", "offset_days": "2", "direction": "before"}


def settings() -> list[AutoPaySetting]:
    db.session.expire_all()
    return [
        copy_row(s)
        for s in db.session.scalars(select(AutoPaySetting).execution_options(all_tenants=True))
    ]


def autopay_payments() -> list[Payment]:
    db.session.expire_all()
    return [
        copy_row(p)
        for p in db.session.scalars(
            select(Payment)
            .where(Payment.made_by_kind == MadeBy.AUTOPAY)
            .order_by(Payment.id)
            .execution_options(all_tenants=True)
        )
    ]


def account_ids(tenant_id: int) -> list[int]:
    with tenant_scope(tenant_id):
        return list(db.session.scalars(select(BankAccount.id).order_by(BankAccount.id)))


def save(browser, **changes):
    data = {**ON, **changes}
    return submit(
        browser,
        "/autopay/edit",
        {k: v for k, v in data.items() if v is not None},
    )


@pytest.fixture
def pat(app, make_shop):
    """A business account's admin with one bank account, signed in: (shop, browser)."""
    shop = make_shop()
    browser = sign_up(app, shop, email="pat@harbor.test", kind="business")
    assert add(browser).status_code == 302
    return shop, browser


def test_the_seeds_steps_from_the_gear_menu_to_save(app, pat):
    shop, browser = pat
    home = browser.get("/").get_data(as_text=True)
    header = home.split("<main", 1)[0]
    assert 'class="gear-menu"' in header
    assert '<a href="/autopay">Auto Pay is off</a>' in header
    page = browser.get("/autopay").get_data(as_text=True)
    assert "<h1>Auto Pay is off</h1>" in page
    assert 'href="/autopay/edit"' in page  # the Edit icon
    form = browser.get("/autopay/edit").get_data(as_text=True)
    assert "Automatically Pay Bills" in form
    assert "Maximum Payment Amount" in form
    assert 'name="bank_account"' not in form  # one account: no choice to make
    assert "Pays from Checking ••••6789." in form
    assert 'name="offset_days"' in form
    response = save(browser)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/autopay")
    [setting] = settings()
    assert setting.enabled is True
    assert setting.max_amount_cents == 5000000
    assert setting.offset_days == 2
    assert setting.direction.value == "before"
    assert setting.bank_account_id == account_ids(shop.tenant.id)[0]
    assert setting.set_by_id == payer("pat@harbor.test").id
    assert setting.set_by_label == "pat@harbor.test"
    page = browser.get("/autopay").get_data(as_text=True)
    assert "<h1>Auto Pay is on</h1>" in page
    assert "$50,000.00" in page
    assert "2 business days before the due date" in page
    assert '<a href="/autopay">Auto Pay is on</a>' in browser.get("/").get_data(as_text=True)
    [mail] = mails("autopay_settings", "pat@harbor.test")
    assert "Auto Pay is on" in mail.subject
    assert "$50,000.00" in mail.text_body
    assert "••••6789" in mail.text_body
    assert "2 business days before the due date" in mail.text_body
    # Both open invoices are scheduled at once, from that account.
    assert len(autopay_payments()) == 2
    assert "Coming Auto Pay payments" in page
    # Off again: its scheduled payments are cancelled, and an email says so.
    response = save(browser, enabled=None)
    assert response.status_code == 302
    assert settings()[0].enabled is False
    assert {p.status for p in autopay_payments()} == {PaymentStatus.CANCELLED}
    [_on, off] = mails("autopay_settings", "pat@harbor.test")
    assert "Auto Pay is off" in off.subject
    assert "<h1>Auto Pay is off</h1>" in browser.get("/autopay").get_data(as_text=True)


def test_the_pages_and_email_in_spanish(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop, email="pat@harbor.test", kind="business")
    assert add(browser).status_code == 302
    submit(browser, "/profile", {"name": "Pat", "language": "es"})
    assert "El pago automático está desactivado" in browser.get("/autopay").get_data(as_text=True)
    form = browser.get("/autopay/edit").get_data(as_text=True)
    assert "Pagar facturas automáticamente" in form
    assert "Monto máximo de pago" in form
    assert save(browser).status_code == 302
    [mail] = mails("autopay_settings", "pat@harbor.test")
    assert mail.language == "es"
    assert "2 días hábiles antes de la fecha de vencimiento" in mail.text_body
    page = save(browser, max_amount="1,5").get_data(as_text=True)
    assert "no 1,5" in page  # the decimal comma explained in Spanish


def test_the_bank_account_is_chosen_only_when_there_are_several(app, pat):
    shop, browser = pat
    assert (
        add(browser, account_number="55554444", account_number_again="55554444").status_code == 302
    )
    form = browser.get("/autopay/edit").get_data(as_text=True)
    assert '<select id="bank_account" name="bank_account"' in form
    first, second = account_ids(shop.tenant.id)
    page = save(browser)  # several and none chosen
    assert page.status_code == 422
    assert "Choose the bank account to pay from." in page.get_data(as_text=True)
    assert settings() == []
    assert save(browser, bank_account=str(second)).status_code == 302
    assert settings()[0].bank_account_id == second


def test_no_bank_account_yet_says_to_add_one(app, make_shop):
    shop = make_shop()
    browser = sign_up(app, shop, email="pat@harbor.test", kind="business")
    assert 'href="/bank-accounts/new"' in browser.get("/autopay/edit").get_data(as_text=True)
    page = save(browser)
    assert page.status_code == 422
    assert "Add a bank account first" in page.get_data(as_text=True)
    assert settings() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_amount": "abc"}, "Enter an amount in dollars and cents"),
        ({"max_amount": "1,5"}, "not 1,5"),
        ({"max_amount": "-5"}, "Enter an amount in dollars and cents"),
        ({"max_amount": "0"}, "must be more than 0"),
        ({"max_amount": "0.001"}, "Enter an amount in dollars and cents"),
        ({"max_amount": "1e3"}, "Enter an amount in dollars and cents"),
        ({"max_amount": "10000000000.01"}, "too large"),  # above 10^12 cents
        ({"max_amount": "1" * 13}, "Enter an amount"),  # above 10^12 dollars
        ({"max_amount": "9" * 41}, "at most 40 characters"),
        ({"max_amount": ""}, "Enter the Maximum Payment Amount."),
        ({"max_amount": None}, "Enter the Maximum Payment Amount."),
        ({"max_amount": "5000\x00"}, ""),
        ({"offset_days": "abc"}, "whole number of business days"),
        ({"offset_days": "-1"}, "whole number of business days"),
        ({"offset_days": "1.5"}, "whole number of business days"),
        ({"offset_days": "٣"}, "whole number of business days"),  # an Arabic-Indic 3
        ({"offset_days": "31"}, "at most 30 business days"),
        ({"offset_days": "9" * 11}, "whole number of business days"),
        ({"offset_days": ""}, "Enter a number of business days"),
        ({"direction": "sideways"}, "Choose before or after the due date."),
        ({"bank_account": "abc"}, "Choose one of your bank accounts."),
        ({"bank_account": "1" * 21}, "Choose one of your bank accounts."),
        ({"bank_account": "-1"}, "Choose one of your bank accounts."),
    ],
)
def test_bad_input_is_refused_and_saves_nothing(app, pat, changes, message):
    _shop, browser = pat
    response = save(browser, **changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert settings() == []
    assert autopay_payments() == []
    assert mails("autopay_settings") == []


def test_a_missing_direction_means_before(app, pat):
    _shop, browser = pat
    assert save(browser, direction=None).status_code == 302
    assert settings()[0].direction.value == "before"


def test_the_largest_maximum_is_accepted(app, pat):
    _shop, browser = pat
    assert save(browser, max_amount="10,000,000,000.00").status_code == 302
    assert settings()[0].max_amount_cents == 10**12


def test_a_form_without_its_csrf_token_is_refused(app, pat):
    _shop, browser = pat
    response = browser.post("/autopay/edit", data=ON)
    assert response.status_code == 400
    assert settings() == []


def test_another_customers_account_and_a_colleagues_private_one_answer_404(app, pat, make_shop):
    from shared import bank_accounts
    from shared.actors import Actor
    from shared.portal_accounts.models import PortalRole, PortalUser
    from tests.autopay.world import ACCOUNT
    from tests.portal.factories import add_customer, add_invoice

    shop, browser = pat
    # A colleague's private account, on the same customer.
    colleague = join_as_colleague(app, shop, browser, "sam@harbor.test", role="admin")
    assert (
        add(
            colleague, account_number="77778888", account_number_again="77778888", private="y"
        ).status_code
        == 302
    )
    # Another customer's account, same vendor.
    other = add_customer(shop.tenant, name="Other LLC", email="x@other.test")
    add_invoice(shop.tenant, other, 1000)
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        user = PortalUser(
            customer_id=other, email="o@other.test", password_hash="x", role=PortalRole.ADMIN
        )
        db.session.add(user)
        db.session.flush()
        bank_accounts.add_bank_account(shop.tenant.id, Actor.payer(user), user, ACCOUNT)
        db.session.commit()
    mine, private, others = account_ids(shop.tenant.id)
    form = browser.get("/autopay/edit").get_data(as_text=True)
    assert f'value="{private}"' not in form  # never offered
    for account_id in (private, others, 10**9):
        assert save(browser, bank_account=str(account_id)).status_code == 404
    assert settings() == []
    assert save(browser, bank_account=str(mine)).status_code == 302


def test_colleagues_see_autopay_read_only(app, pat):
    shop, admin = pat
    assert save(admin).status_code == 302
    for role in ("payer", "viewer"):
        browser = join_as_colleague(app, shop, admin, f"{role}@harbor.test", role=role)
        page = browser.get("/autopay").get_data(as_text=True)
        assert "<h1>Auto Pay is on</h1>" in page
        assert "$50,000.00" in page
        assert 'href="/autopay/edit"' not in page
        assert "Only an admin of this account changes Auto Pay." in page
        assert "/skip" not in page
        assert browser.get("/autopay/edit").status_code == 403
        token = csrf_token(browser, "/autopay")
        response = browser.post("/autopay/edit", data={"csrf_token": token, **ON, "enabled": ""})
        assert response.status_code == 403
        with tenant_scope(shop.tenant.id):
            item_id = db.session.scalars(select(AutoPayItem.id)).first()
        response = browser.post(f"/autopay/items/{item_id}/skip", data={"csrf_token": token})
        assert response.status_code == 403
    assert settings()[0].enabled is True
    assert {p.status for p in autopay_payments()} == {PaymentStatus.SCHEDULED}


def test_a_personal_accounts_owner_changes_it(app, make_shop):
    shop = make_shop(kind="personal")
    browser = sign_up(app, shop, email="pat@harbor.test", kind="personal")
    assert add(browser).status_code == 302
    assert save(browser).status_code == 302
    assert settings()[0].enabled is True


def test_guests_have_no_autopay(app, make_shop):
    shop = make_shop()
    guest = open_as_guest(app, shop)
    home = guest.get("/").get_data(as_text=True)
    assert "gear-menu" not in home
    assert "Auto Pay" not in home
    for path in ("/autopay", "/autopay/edit"):
        response = guest.get(path)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]
    token = csrf_token(guest, "/")
    response = guest.post("/autopay/edit", data={"csrf_token": token, **ON})
    assert response.status_code == 302
    assert settings() == []


def test_skip_from_the_portal_and_from_the_notice_link(app, pat):
    shop, browser = pat
    assert save(browser).status_code == 302
    with tenant_scope(shop.tenant.id):
        first, second = db.session.scalars(select(AutoPayItem.id).order_by(AutoPayItem.id)).all()
    page = browser.get("/autopay").get_data(as_text=True)
    assert f'action="/autopay/items/{first}/skip"' in page
    token = csrf_token(browser, "/autopay")
    response = browser.post(f"/autopay/items/{first}/skip", data={"csrf_token": token})
    assert response.status_code == 302
    statuses = [p.status for p in autopay_payments()]
    assert statuses == [PaymentStatus.CANCELLED, PaymentStatus.SCHEDULED]
    # Skipped twice: refused, nothing more changes.
    browser.post(f"/autopay/items/{first}/skip", data={"csrf_token": token})
    assert [p.status for p in autopay_payments()] == statuses
    # The notice's link, opened without signing in.
    with app.test_request_context():
        tenant = db.session.get(type(shop.tenant), shop.tenant.id)
        far = at("2027-12-01")  # every payment is within three banking days of it
        assert autopay.send_autopay_notices(tenant, far) == 1
        db.session.commit()
    [notice] = mails("autopay_notice")
    path = link_path(notice)
    assert path.startswith("/autopay/skip/")
    stranger = shop.browser(app)
    page = stranger.get(path)
    assert page.status_code == 200
    assert "Skip this Auto Pay payment?" in page.get_data(as_text=True)
    response = submit(stranger, path, {})
    assert response.status_code == 302
    assert [p.status for p in autopay_payments()] == [PaymentStatus.CANCELLED] * 2
    assert stranger.get(path).status_code == 404  # used: the link no longer works
    assert submit(stranger, path, {}, form_path="/").status_code == 404


@pytest.mark.parametrize("token", ["x", "a" * 301, "WzEsMSwxXQ.forged", "%00", "..%2F..%2Fetc"])
def test_a_forged_skip_link_answers_404(app, pat, token):
    shop, browser = pat
    assert save(browser).status_code == 302
    assert shop.browser(app).get(f"/autopay/skip/{token}").status_code == 404


def test_a_skip_link_of_another_tenant_answers_404(app, pat, make_shop):
    shop, browser = pat
    assert save(browser).status_code == 302
    make_shop("globex")
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        item = db.session.scalars(select(AutoPayItem).order_by(AutoPayItem.id)).first()
        token = autopay.skip_token(item)
    assert shop.browser(app).get(f"/autopay/skip/{token}").status_code == 200
    from tests.conftest import host_client

    globex = host_client(app, "globex.localhost:8000")
    assert globex.get(f"/autopay/skip/{token}").status_code == 404


def test_tenants_never_see_each_others_autopay(app, pat, make_shop):
    shop, browser = pat
    assert save(browser).status_code == 302
    other = make_shop("globex")
    theirs = sign_up(app, other, email="pat@harbor.test", kind="business")
    page = theirs.get("/autopay").get_data(as_text=True)
    assert "<h1>Auto Pay is off</h1>" in page
    assert "Coming Auto Pay payments" not in page
    with tenant_scope(shop.tenant.id):
        item_id = db.session.scalars(select(AutoPayItem.id)).first()
    token = csrf_token(theirs, "/autopay")
    assert (
        theirs.post(f"/autopay/items/{item_id}/skip", data={"csrf_token": token}).status_code == 404
    )
    assert {p.status for p in autopay_payments()} == {PaymentStatus.SCHEDULED}


def test_removing_its_bank_account_stops_autopay_and_tells_both_sides(app, pat):
    shop, browser = pat
    assert save(browser).status_code == 302
    [account_id] = account_ids(shop.tenant.id)
    page = browser.get(f"/bank-accounts/{account_id}/remove").get_data(as_text=True)
    assert "Auto Pay pays from this account" in page
    ids = re.search(r'name="payment_ids" type="hidden" value="([0-9,]*)"', page).group(1)
    assert len(ids.split(",")) == 2
    response = submit(
        browser, f"/bank-accounts/{account_id}/remove", {"payment_ids": ids, "confirm": "y"}
    )
    assert response.status_code == 302
    [setting] = settings()
    assert setting.enabled is False
    assert setting.stopped_reason == "bank_account_removed"
    assert {p.status for p in autopay_payments()} == {PaymentStatus.CANCELLED}
    [to_payer] = mails("autopay_stopped", "pat@harbor.test")
    [to_vendor] = mails("autopay_stopped", "owner@acme.test")
    assert "was removed" in to_payer.text_body
    assert "2 scheduled Auto Pay payments were cancelled" in to_vendor.text_body
    assert "Auto Pay stopped by itself" in browser.get("/autopay").get_data(as_text=True)


def test_made_private_by_the_colleague_who_added_it_stops_autopay(app, pat):
    shop, admin = pat
    colleague = join_as_colleague(app, shop, admin, "sam@harbor.test", role="payer")
    assert (
        add(colleague, account_number="77778888", account_number_again="77778888").status_code
        == 302
    )
    _mine, shared_one = account_ids(shop.tenant.id)
    assert save(admin, bank_account=str(shared_one)).status_code == 302
    # Only its adder changes who sees it.
    token = csrf_token(admin, "/bank-accounts")
    response = admin.post(
        f"/bank-accounts/{shared_one}/privacy", data={"csrf_token": token, "private": "y"}
    )
    assert response.status_code == 403
    assert settings()[0].enabled is True
    token = csrf_token(colleague, "/bank-accounts")
    for hostile in ("maybe", "", "y" * 1000):
        response = colleague.post(
            f"/bank-accounts/{shared_one}/privacy", data={"csrf_token": token, "private": hostile}
        )
        assert response.status_code == 400
    response = colleague.post(
        f"/bank-accounts/{shared_one}/privacy", data={"csrf_token": token, "private": "y"}
    )
    assert response.status_code == 302
    [setting] = settings()
    assert setting.enabled is False
    assert setting.stopped_reason == "bank_account_made_private"
    assert {p.status for p in autopay_payments()} == {PaymentStatus.CANCELLED}
    assert len(mails("autopay_stopped")) == 2  # the admin, the vendor
    assert "made private" in mails("autopay_stopped", "pat@harbor.test")[0].text_body


def test_making_ones_own_account_private_keeps_ones_own_autopay(app, pat):
    shop, browser = pat
    assert save(browser).status_code == 302
    [account_id] = account_ids(shop.tenant.id)
    token = csrf_token(browser, "/bank-accounts")
    response = browser.post(
        f"/bank-accounts/{account_id}/privacy", data={"csrf_token": token, "private": "y"}
    )
    assert response.status_code == 302
    assert settings()[0].enabled is True
    assert mails("autopay_stopped") == []


def test_an_autopay_invoice_above_the_maximum_shows_on_the_page(app, pat):
    shop, browser = pat
    assert save(browser, max_amount="40000.00").status_code == 302  # 45,441.76 is above
    page = browser.get("/autopay").get_data(as_text=True)
    assert "Above your maximum: not withdrawn, pay it by hand." in page
    assert len(autopay_payments()) == 1


def test_count_of_queries_on_the_autopay_page_does_not_grow_with_invoices(app, pat, count_queries):
    shop, browser = pat
    assert save(browser).status_code == 302
    browser.get("/autopay")
    with count_queries() as few:
        browser.get("/autopay")
    from tests.portal.factories import add_invoice

    for _ in range(5):
        add_invoice(shop.tenant, shop.customer_id, 1000)
    with app.test_request_context():
        autopay.schedule_autopay(
            db.session.get(type(shop.tenant), shop.tenant.id), at("2026-12-03")
        )
        db.session.commit()
    with count_queries() as many:
        browser.get("/autopay")
    assert many.count == few.count
    assert (
        db.session.scalar(
            select(func.count()).select_from(Payment).execution_options(all_tenants=True)
        )
        == 7
    )
