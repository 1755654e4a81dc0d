"""A re-presented ACH debit is visible: the console's payment page says "Presentment N of 3" and
links the presentments to each other; the API's payment has `presentment`, `represents` and
`represented_by`, loaded for a page of payments in a constant number of queries."""

from __future__ import annotations

from datetime import date

from shared.ach import build_ach_files
from shared.ach.represent import FIRST, Presentment, presentments
from shared.extensions import db
from shared.tenancy import tenant_scope
from tests.ach.conftest import at
from tests.ach.test_represent import TUE, _links, _return
from tests.api.conftest import Api, make_key
from tests.test_branding import signed_in


def _three_presentments(shop, original):
    _return(shop, original, "R01")
    [second] = _links(shop)
    with tenant_scope(shop.tenant.id):
        build_ach_files(shop.tenant, at(TUE, 15))
        db.session.commit()
    _return(shop, second.payment_id, "R09", day=date(2026, 6, 25))
    return [original] + [link.payment_id for link in _links(shop)]


def test_each_presentment_knows_its_place_in_one_query(sent, count_queries):
    shop, customer, account, original = sent
    first, second, third = _three_presentments(shop, original)
    other = shop.payment(customer, account, 1000, date(2026, 7, 1))
    with tenant_scope(shop.tenant.id), count_queries() as counter:
        places = presentments([first, second, third, other])
    assert counter.count == 1
    assert places == {
        first: Presentment(1, None, second),
        second: Presentment(2, first, third),
        third: Presentment(3, second, None),
        other: FIRST,
    }
    with tenant_scope(shop.tenant.id):  # one of the chain alone still finds its neighbours
        assert presentments([third]) == {third: Presentment(3, second, None)}


def test_the_console_payment_page_shows_the_presentment_and_links(app, sent):
    shop, customer, account, original = sent
    first, second, third = _three_presentments(shop, original)
    with tenant_scope(shop.tenant.id):
        client = signed_in(app, shop.owner.email)
    page = client.get(f"/payments/{second}").get_data(as_text=True)
    assert "Presentment 2 of 3" in page
    assert f'href="/payments/{first}"' in page
    assert f'href="/payments/{third}"' in page
    assert "Presentment 1 of 3" in client.get(f"/payments/{first}").get_data(as_text=True)
    plain = shop.payment(customer, account, 1000, date(2026, 7, 1))
    assert "Presentment" not in client.get(f"/payments/{plain}").get_data(as_text=True)


def test_the_api_payment_names_its_presentments(app, sent):
    shop, _customer, _account, original = sent
    first, second, third = _three_presentments(shop, original)
    api = Api(app, make_key(shop.tenant.id))
    one = api.get(f"/api/v1/payments/{second}").get_json()
    assert (one["presentment"], one["represents"], one["represented_by"]) == (2, first, third)
    listed = {p["id"]: p for p in api.get("/api/v1/payments").get_json()["data"]}
    assert (listed[first]["presentment"], listed[first]["represents"]) == (1, None)
    assert listed[first]["represented_by"] == second
    assert (listed[third]["presentment"], listed[third]["represented_by"]) == (3, None)
