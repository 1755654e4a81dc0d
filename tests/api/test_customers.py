"""`/api/v1/customers`: create, read, list, change; strict bodies; other vendors' ids answer 404."""

from __future__ import annotations

import base64
import json

from sqlalchemy import func, select

from shared.customers.models import Customer
from shared.extensions import db
from tests.api.conftest import customer_body, error_of, make_customer
from tests.conftest import CONSOLE, host_client


def customer_count() -> int:
    query = select(func.count()).select_from(Customer).execution_options(all_tenants=True)
    return db.session.scalar(query)


# --- create -------------------------------------------------------------------------------------


def test_create_a_customer(app, api):
    response = api.post(
        "/api/v1/customers",
        customer_body(
            language="es",
            phone="+1 (305) 555-0100",
            kind="personal",
            cc_emails=["Boss@Harbor.test", "books@harbor.test"],
        ),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/customers/{body['id']}"
    assert body == {
        "id": body["id"],
        "client_number": "20000001",  # allocated
        "name": "Harbor View Dental",
        "email": "ap@harbor.test",
        "cc_emails": ["boss@harbor.test", "books@harbor.test"],
        "phone": "+1 (305) 555-0100",
        "language": "es",
        "kind": "personal",
        "archived": False,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["created_at"].endswith("Z")
    assert api.get(f"/api/v1/customers/{body['id']}").get_json() == body


def test_a_given_client_number_is_kept_and_must_be_unique(app, api):
    first = make_customer(api, client_number="20000042")
    assert first["client_number"] == "20000042"
    response = api.post("/api/v1/customers", customer_body(client_number="20000042"))
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "client_number": ["Another customer has this client number."]
    }
    assert customer_count() == 1


def test_client_numbers_are_unique_per_vendor_only(app, api_for):
    assert make_customer(api_for("acme"), client_number="20000042")["client_number"] == "20000042"
    assert make_customer(api_for("globex"), client_number="20000042")["client_number"] == "20000042"


BAD_CUSTOMERS = [
    ({"email": "a@b.test"}, {"name": ["This field is required."]}),
    ({"name": "A"}, {"email": ["This field is required."]}),
    ({"name": None, "email": "a@b.test"}, {"name": ["This field cannot be null."]}),
    ({"name": "   ", "email": "a@b.test"}, {"name": ["This field cannot be empty."]}),
    ({"name": 12, "email": "a@b.test"}, {"name": ["Send text (a JSON string)."]}),
    ({"name": "x" * 201, "email": "a@b.test"}, {"name": ["Use at most 200 characters."]}),
    (
        {"name": "A\x00B", "email": "a@b.test"},
        {"name": ["Remove the NUL character (U+0000) from this text."]},
    ),
    ({"name": "A", "email": "not an email"}, {"email": ["Enter a valid email address."]}),
    (
        {"name": "A", "email": "a@b.test", "client_number": "12345678"},
        {"client_number": ["A client number has 8 digits and starts with 2."]},
    ),
    (
        {"name": "A", "email": "a@b.test", "client_number": ""},
        {"client_number": ["A client number has 8 digits and starts with 2."]},
    ),
    (
        {"name": "A", "email": "a@b.test", "language": "fr"},
        {"language": ["Use one of: en, es."]},
    ),
    (
        {"name": "A", "email": "a@b.test", "phone": "call me"},
        {"phone": ["Enter a phone number with digits, spaces and + ( ) -."]},
    ),
    (
        {"name": "A", "email": "a@b.test", "cc_emails": "x@y.test"},
        {"cc_emails": ["Send a list (a JSON array)."]},
    ),
    (
        {"name": "A", "email": "a@b.test", "cc_emails": [f"c{n}@y.test" for n in range(6)]},
        {"cc_emails": ["Send at most 5 items."]},
    ),
    (
        {"name": "A", "email": "a@b.test", "id": 7, "tenant_id": 2},
        {"id": ["This field is not allowed."], "tenant_id": ["This field is not allowed."]},
    ),
]


def test_bad_customer_fields_are_refused(app, api, subtests):
    for body, fields in BAD_CUSTOMERS:
        with subtests.test(body=body):
            response = api.post("/api/v1/customers", body)
            assert response.status_code == 422
            error = error_of(response)
            assert error["code"] == "unprocessable_entity"
            assert error["fields"] == fields
            assert customer_count() == 0


def test_messages_follow_accept_language(app, api):
    response = api.post(
        "/api/v1/customers", {"email": "x", "nombre": "A"}, headers={"Accept-Language": "es"}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["message"] == "Algunos campos no son válidos: vea fields."
    assert error["fields"] == {
        "name": ["Este campo es obligatorio."],
        "nombre": ["Este campo no está permitido."],
    }


# --- the request itself ---------------------------------------------------------------------


NOT_OBJECTS = [[], ["name"], "text", 3, None, True]


def test_a_body_that_is_not_an_object_is_refused(app, api, subtests):
    for body in NOT_OBJECTS:
        with subtests.test(body=body):
            response = api.client.post(
                "/api/v1/customers",
                data=json.dumps(body),
                content_type="application/json",
                headers={"Authorization": f"Bearer {api.token}"},
            )
            assert response.status_code == 400
            error = error_of(response)
            assert error["fields"] == {"body": ["The request body must be a JSON object: {…}."]}


MALFORMED_JSON = [
    "{",
    '{"name": "A",}',
    "",
    "{'name': 'A'}",
    b'{"name": "\xff"}',
    "[" * 100_000,
]


def test_malformed_json_is_a_400(app, api, subtests):
    for data in MALFORMED_JSON:
        with subtests.test(data=data):
            response = api.client.post(
                "/api/v1/customers",
                data=data,
                content_type="application/json",
                headers={"Authorization": f"Bearer {api.token}"},
            )
            assert response.status_code == 400
            assert error_of(response)["code"] == "bad_request"
            assert customer_count() == 0


NOT_JSON = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
]


def test_a_body_that_is_not_json_is_a_415(app, api, subtests):
    for content_type in NOT_JSON:
        with subtests.test(content_type=content_type):
            kwargs = {"content_type": content_type} if content_type else {}
            response = api.client.post(
                "/api/v1/customers",
                data='{"name": "A", "email": "a@b.test"}',
                headers={"Authorization": f"Bearer {api.token}"},
                **kwargs,
            )
            assert response.status_code == 415
            assert error_of(response)["code"] == "unsupported_media_type"
            assert customer_count() == 0


def test_an_oversized_body_is_a_413(app, api):
    body = json.dumps(customer_body(name="x" * (5 * 1024 * 1024)))
    response = api.client.post(
        "/api/v1/customers",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "request_entity_too_large"
    assert "4 MB" in error["message"]
    assert customer_count() == 0


def test_an_unknown_path_or_method_answers_the_error_body(app, api):
    missing = api.get("/api/v1/refunds")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong = api.client.delete("/api/v1/customers", headers={"Authorization": f"Bearer {api.token}"})
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "POST"}


# --- read -----------------------------------------------------------------------------------


def test_another_vendors_customer_is_not_found(app, api_for):
    theirs = make_customer(api_for("globex"))
    mine = api_for("acme")
    for path in [
        f"/api/v1/customers/{theirs['id']}",
        "/api/v1/customers/999999",
        "/api/v1/customers/0",
        "/api/v1/customers/99999999999999999999",
    ]:
        response = mine.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
        patched = mine.patch(path, {"name": "Mine now"})
        assert patched.status_code == 404, path
    assert api_for("globex").get(f"/api/v1/customers/{theirs['id']}").get_json()["name"] == (
        "Harbor View Dental"
    )


# --- list -----------------------------------------------------------------------------------


def test_list_pages_with_a_cursor(app, api, api_for):
    made = [make_customer(api, name=f"Customer {n}", email=f"c{n}@x.test") for n in range(5)]
    make_customer(api_for("globex"))  # never listed for acme
    first = api.get("/api/v1/customers?limit=2").get_json()
    assert [c["id"] for c in first["data"]] == [made[0]["id"], made[1]["id"]]
    second = api.get(f"/api/v1/customers?limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["id"] for c in second["data"]] == [made[2]["id"], made[3]["id"]]
    third = api.get(f"/api/v1/customers?limit=2&cursor={second['next_cursor']}").get_json()
    assert [c["id"] for c in third["data"]] == [made[4]["id"]]
    assert third["next_cursor"] is None
    everything = api.get("/api/v1/customers").get_json()
    assert everything == {"data": made, "next_cursor": None}


def test_list_filters(app, api):
    dental = make_customer(api, name="Harbor View Dental", email="ap@harbor.test")
    make_customer(api, name="Bayside Bakery", email="info@bayside.test")
    found = api.get("/api/v1/customers?q=harbor").get_json()["data"]
    assert [c["id"] for c in found] == [dental["id"]]
    later = api.get("/api/v1/customers?updated_since=2999-01-01T00:00:00Z").get_json()
    assert later["data"] == []
    assert (
        len(
            api.get("/api/v1/customers?updated_since=2000-01-01T00:00:00%2B02:00").get_json()[
                "data"
            ]
        )
        == 2
    )
    assert api.get("/api/v1/customers?archived=true").get_json()["data"] == []


def _cursor(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


BAD_CURSORS = [
    "nonsense",
    "%00",
    "////",
    _cursor(["invoices", 1]),
    _cursor(["customers", -1]),
    _cursor(["customers", "1"]),
    _cursor(["customers", 2**40]),
    _cursor({"after": 1}),
    "é",
]


def test_a_bad_cursor_is_a_400(app, api, subtests):
    for cursor in BAD_CURSORS:
        with subtests.test(cursor=cursor):
            make_customer(api)
            response = api.get("/api/v1/customers", query_string={"cursor": cursor})
            assert response.status_code == 400
            error = error_of(response)
            assert error["code"] == "bad_request"
            assert list(error["fields"]) == ["cursor"]


BAD_QUERIES = [
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=abc", "limit"),
    ("limit=-1", "limit"),
    ("limit=1.5", "limit"),
    ("archived=yes", "archived"),
    ("updated_since=yesterday", "updated_since"),
    ("updated_since=2026-11-30T10:00:00", "updated_since"),  # no offset
    ("updated_since=0001-01-01T00:00:00%2B01:00", "updated_since"),
    ("q=" + "x" * 101, "q"),
    ("sort=name", "sort"),
    ("limit=1&limit=2", "limit"),
]


def test_bad_query_parameters_are_a_400(app, api, subtests):
    for query, field in BAD_QUERIES:
        with subtests.test(query=query):
            response = api.get(f"/api/v1/customers?{query}")
            assert response.status_code == 400
            assert list(error_of(response)["fields"]) == [field]


def test_the_list_runs_the_same_queries_for_5_or_60_customers(app, api, count_queries):
    for n in range(5):
        make_customer(api, name=f"C{n}", email=f"c{n}@x.test")
    api.get("/api/v1/customers")  # the key's last use is recorded once a minute: not counted below
    with count_queries() as few:
        assert len(api.get("/api/v1/customers?limit=100").get_json()["data"]) == 5
    for n in range(5, 60):
        make_customer(api, name=f"C{n}", email=f"c{n}@x.test")
    api.get("/api/v1/customers")
    with count_queries() as many:
        assert len(api.get("/api/v1/customers?limit=100").get_json()["data"]) == 60
    assert many.count == few.count
    assert few.count <= 3


# --- change ---------------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(app, api):
    customer = make_customer(api, phone="555-0100")
    response = api.patch(
        f"/api/v1/customers/{customer['id']}",
        {"name": "Harbor View Dental Group", "language": "es", "cc_emails": ["b@harbor.test"]},
    )
    assert response.status_code == 200
    changed = response.get_json()
    assert changed["name"] == "Harbor View Dental Group"
    assert changed["language"] == "es"
    assert changed["cc_emails"] == ["b@harbor.test"]
    assert changed["phone"] == "555-0100"
    assert changed["email"] == customer["email"]
    assert api.get(f"/api/v1/customers/{customer['id']}").get_json() == changed


BAD_PATCHES = [
    ({"name": ""}, {"name": ["This field cannot be empty."]}),
    ({"email": None}, {"email": ["This field cannot be null."]}),
    ({"email": "nope"}, {"email": ["Enter a valid email address."]}),
    (
        {"client_number": "20000099"},
        {"client_number": ["Another customer has this client number."]},
    ),
    ({"archived_at": "2026-01-01"}, {"archived_at": ["This field is not allowed."]}),
]


def test_a_bad_patch_changes_nothing(app, api, subtests):
    make_customer(api, client_number="20000099", email="other@x.test")
    customer = make_customer(api, client_number="20000100")
    for body, fields in BAD_PATCHES:
        with subtests.test(body=body):
            response = api.patch(f"/api/v1/customers/{customer['id']}", {"name": "Renamed", **body})
            assert response.status_code == 422
            assert error_of(response)["fields"] == fields
            assert api.get(f"/api/v1/customers/{customer['id']}").get_json() == customer


def test_patch_needs_json(app, api):
    customer = make_customer(api)
    response = api.client.patch(
        f"/api/v1/customers/{customer['id']}",
        data="name=x",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 415


def test_the_api_answers_only_on_the_console_host(app, api):
    response = host_client(app, "globex.localhost:8000").get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 404
    assert host_client(app, CONSOLE).get("/api/v1/openapi.json").status_code == 200


def test_two_requests_racing_for_one_client_number_get_a_409(app, api, monkeypatch):
    """The domain checks uniqueness first; the database's constraint settles a race it misses."""
    import shared.customers

    make_customer(api, client_number="20000077")
    monkeypatch.setattr(shared.customers, "_client_number_taken", lambda *_a, **_k: False)
    response = api.post("/api/v1/customers", customer_body(client_number="20000077"))
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert customer_count() == 1
    assert api.get("/api/v1/customers").status_code == 200  # the session recovered
