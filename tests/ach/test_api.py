"""`/api/v1/ach-files` and `/api/v1/ach-returns`: keys only, tenant-scoped (404 across vendors),
wrong, missing, hostile and oversized input refused, in the OpenAPI document."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from shared.ach import build_ach_files
from shared.ach.models import AchEntry, AchImport
from shared.extensions import db
from shared.payments.models import Payment, PaymentStatus
from shared.tenancy import tenant_scope
from tests.ach.conftest import at
from tests.ach.returnfiles import Item, return_file
from tests.api.conftest import Api, make_key

THU = date(2026, 6, 18)


@pytest.fixture
def two(ach_shop, app):
    """acme with one file built, globex with none; an API client for each."""
    acme, globex = ach_shop("acme"), ach_shop("globex")
    customer = acme.customer("business", "Harbor View Dental")
    acme.payment(customer, acme.bank_account(customer), 2500, THU)
    with tenant_scope(acme.tenant.id):
        build_ach_files(acme.tenant, at(THU, 18))
        db.session.commit()
        trace = db.session.scalar(select(AchEntry.trace_number))
    return (
        Api(app, make_key(acme.tenant.id)),
        Api(app, make_key(globex.tenant.id)),
        acme,
        trace,
    )


def test_list_and_download(two):
    api, _other, _acme, _trace = two
    listed = api.get("/api/v1/ach-files")
    assert listed.status_code == 200
    (item,) = listed.json["data"]
    assert listed.json["next_cursor"] is None
    assert item["file_name"] == "ach-20260618-A.ach"
    assert (item["effective_date"], item["built_on"]) == ("2026-06-22", "2026-06-18")
    assert (item["entry_count"], item["total_debit"], item["file_id_modifier"]) == (1, "25.00", "A")
    download = api.get(f"/api/v1/ach-files/{item['id']}/download")
    assert download.status_code == 200
    assert download.mimetype == "text/plain"
    text = download.get_data(as_text=True)
    assert all(len(line) == 94 for line in text.splitlines())


def test_vendors_never_see_each_others_files(two):
    api, other, _acme, _trace = two
    file_id = api.get("/api/v1/ach-files").json["data"][0]["id"]
    assert other.get("/api/v1/ach-files").json["data"] == []
    missing = other.get(f"/api/v1/ach-files/{file_id}/download")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    assert api.get("/api/v1/ach-files/99999999999/download").status_code == 404


def test_no_key_no_files(two, app):
    anonymous = Api(app, None)
    assert anonymous.get("/api/v1/ach-files").status_code == 401
    assert anonymous.get("/api/v1/ach-files/1/download").status_code == 401
    assert anonymous.post("/api/v1/ach-returns", json={"content": "x"}).status_code == 401
    assert Api(app, "arp_bad_key").get("/api/v1/ach-files").status_code == 401


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", "cursor=nonsense", "limit=5&limit=6", "q=1"]
)
def test_bad_list_parameters_answer_400(two, query):
    api = two[0]
    assert api.get(f"/api/v1/ach-files?{query}").status_code == 400


def test_importing_returns_through_the_api_applies_once(two):
    api, _other, acme, trace = two
    body = {"content": return_file([Item(trace, "R01", amount=2500)])}
    first = api.post("/api/v1/ach-returns", json=body)
    assert first.status_code == 201, first.json
    assert (first.json["returns"], first.json["already_imported"]) == (1, False)
    again = api.post("/api/v1/ach-returns", json=body)
    assert again.status_code == 200
    assert again.json["already_imported"] is True
    assert again.json["id"] == first.json["id"]
    with tenant_scope(acme.tenant.id):
        assert db.session.scalar(select(Payment.status)) is PaymentStatus.RETURNED


def test_another_vendors_return_file_touches_nothing_of_ours(two):
    api, other, acme, trace = two
    answer = other.post(
        "/api/v1/ach-returns", json={"content": return_file([Item(trace, "R01", amount=2500)])}
    )
    assert answer.status_code == 201
    assert answer.json["unmatched"] == 1
    with tenant_scope(acme.tenant.id):
        assert db.session.scalar(select(Payment.status)) is PaymentStatus.PROCESSING


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "content"),
        ({"content": ""}, "content"),
        ({"content": 12}, "content"),
        ({"content": "1" * 94}, "content"),  # malformed: line 1, priority_code
        ({"content": "<script>alert(1)</script>"}, "content"),
        ({"content": "x", "extra": 1}, "extra"),
    ],
)
def test_wrong_missing_and_hostile_bodies_answer_422(two, body, field):
    api, _other, acme, _trace = two
    answer = api.post("/api/v1/ach-returns", json=body)
    assert answer.status_code == 422, answer.json
    assert field in answer.json["error"]["fields"]
    with tenant_scope(acme.tenant.id):
        assert db.session.scalars(select(AchImport)).all() == []


def test_a_malformed_file_names_its_line_and_field(two):
    api = two[0]
    answer = api.post("/api/v1/ach-returns", json={"content": "1" * 94})
    assert "line 1, field priority_code" in answer.json["error"]["fields"]["content"][0]


def test_wrong_content_type_bad_json_and_oversized_bodies(two):
    api = two[0]
    assert (
        api.post(
            "/api/v1/ach-returns", data="x", headers={"Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    bad = api.client.post(
        "/api/v1/ach-returns",
        data="{not json",
        headers={**api._headers(None), "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert api.post("/api/v1/ach-returns", json=["content"]).status_code == 400
    huge = api.post("/api/v1/ach-returns", json={"content": "9" * (50 * 1024 * 1024)})
    assert huge.status_code == 413


def test_the_openapi_document_names_the_ach_endpoints(two):
    api = two[0]
    document = api.get("/api/v1/openapi.json").json
    assert "/ach-files" in document["paths"]
    assert "/ach-files/{file_id}/download" in document["paths"]
    assert "post" in document["paths"]["/ach-returns"]
    assert "AchImport" in document["components"]["schemas"]


def test_a_vendor_without_settings_has_an_empty_list(ach_shop, app):
    shop = ach_shop("initech", settings=False)
    assert Api(app, make_key(shop.tenant.id)).get("/api/v1/ach-files").json["data"] == []
