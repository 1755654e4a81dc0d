"""The OpenAPI 3 document of API v1, made by apispec from the same marshmallow schemas the views
use, and served (without a key) at `/api/v1/openapi.json`."""

from __future__ import annotations

import copy
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Response, current_app, jsonify

from vendor_console.api import bp, schemas

DESCRIPTION = """\
The REST API of the vendor console, for a vendor's own systems (accounting, ERP, billing).

**Authentication.** Every call sends an API key: `Authorization: Bearer arp_<prefix>_<secret>`.
Keys are made in the console (API keys) or with `flask tenants api-key --slug SLUG`; a key is
shown once, and it alone decides which vendor's data the call sees. Another vendor's ids answer
404, exactly like ids that do not exist. Session cookies are never accepted.

**Rate limit.** Calls are counted per key (default 120 a minute). Past the limit the answer is 429
with a `Retry-After` header (seconds).

**Bodies.** JSON objects (`Content-Type: application/json`), at most 4 MB. Unknown fields are
refused. Amounts, quantities and tax rates are decimal *strings* (`"1234.56"`, `"1.5"`, `"8.25"`):
JSON numbers, exponents (`"1e3"`), `NaN` and more decimals than allowed are refused. Dates are
ISO 8601 (`"2026-11-30"`); instants carry their offset (`"2026-11-30T14:00:00Z"`).

**Errors.** Every failure answers `{"error": {"code", "message", "fields"}}`. `message` is in the
language of `Accept-Language` (English or Spanish); `fields` maps a field's path
(`"lines.0.quantity"`) to its messages. Invalid bodies answer 422; invalid query parameters,
malformed JSON and bodies that are not objects answer 400; a wrong content type 415; a body over
4 MB 413.

**Lists** answer `{"data": [...], "next_cursor": "..."}` in id order (oldest first). Pass
`next_cursor` as `cursor` for the next page; it is null on the last page. `limit` is 1 to 100
(default 50).

**Invoices** made through the API are issued at once (status `open`) unless the body says
`"draft": true`; `"send": true` also emails the invoice to the customer with its pay link (and its
PDF when electronic). Statuses: `draft`, `open`, `partially_paid`, `payment_scheduled`, `payment_processing`,
`paid`, `void`; the status follows the money and is never set by hand.

**Payments** are made by payers in the portal; `/payments` lists and reads them: `status`
(`scheduled`, `processing`, `succeeded`, `failed`, `cancelled`, `returned`), `method` (`ach`,
`card`), `amount`, `fee` (card surcharge), `total` (charged), `pay_on` and the `allocations` to
invoices. An invoice's `scheduled`, `processing` and `paid` (settled only) show what payments
cover, and `balance` what is still open to pay.

**Idempotency.** Every creating call (POST) accepts an `Idempotency-Key` header (1 to 255
characters, such as a UUID), with Stripe's semantics: a retry with the same key and the same body
answers the first answer again (status and body, with `Idempotent-Replayed: true`) and does nothing
twice, even when both requests arrive at once; the same key with another body answers 409
(`idempotency_key_reused`). Keys belong to the API key that sent them and are kept 24 hours.
Refusals (4xx) are kept too; server errors are not, so a retry after one runs again.
"""

_JSON = "application/json"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": "Error"}}}


_ERRORS = {
    "400": _error("Malformed JSON, a body that is not an object, or a bad query parameter."),
    "401": _error("No API key, or an unknown or revoked one."),
    "404": _error("No such object for this vendor."),
    "409": _error(
        "Two requests changed the same thing at once, or an Idempotency-Key was reused for "
        "another request; nothing was saved."
    ),
    "413": _error("The body is larger than 4 MB."),
    "415": _error("The body is not sent as application/json."),
    "422": _error("Some fields are not valid: see `fields`."),
    "429": {
        **_error("Too many calls with this key."),
        "headers": {
            "Retry-After": {
                "description": "Seconds until calls are accepted again.",
                "schema": {"type": "integer"},
            }
        },
    },
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _ERRORS[code] for code in ("401", "429", *codes)}


def _ok(schema: str, description: str, status: str = "200") -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {_JSON: {"schema": schema}}}
    if status == "201":
        answer["headers"] = {
            "Location": {"description": "Where the new object is.", "schema": {"type": "string"}}
        }
    return {status: answer}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Makes a retry answer the first answer instead of doing it again (24 hours).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {_JSON: {"schema": schema}}}


def _id(name: str) -> dict[str, Any]:
    return {
        "in": "path",
        "name": name,
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    }


_WRITE_ERRORS = ("400", "409", "413", "415", "422")

PATHS: dict[str, dict[str, Any]] = {
    "/customers": {
        "get": {
            "operationId": "listCustomers",
            "summary": "List customers",
            "tags": ["customers"],
            "parameters": [{"in": "query", "schema": "CustomerQuery"}],
            "responses": {**_ok("CustomerList", "A page of customers."), **_errors("400")},
        },
        "post": {
            "operationId": "createCustomer",
            "summary": "Create a customer",
            "description": "The client number is allocated when left out.",
            "tags": ["customers"],
            "requestBody": _body("CustomerCreate"),
            "responses": {
                **_ok("Customer", "The new customer.", "201"),
                **_errors(*_WRITE_ERRORS),
            },
        },
    },
    "/customers/{customer_id}": {
        "parameters": [_id("customer_id")],
        "get": {
            "operationId": "getCustomer",
            "summary": "Read a customer",
            "tags": ["customers"],
            "responses": {**_ok("Customer", "The customer."), **_errors("404")},
        },
        "patch": {
            "operationId": "updateCustomer",
            "summary": "Change some of a customer's fields",
            "description": "Only the fields sent change.",
            "tags": ["customers"],
            "requestBody": _body("CustomerPatch"),
            "responses": {
                **_ok("Customer", "The changed customer."),
                **_errors("404", *_WRITE_ERRORS),
            },
        },
    },
    "/invoices": {
        "get": {
            "operationId": "listInvoices",
            "summary": "List invoices",
            "tags": ["invoices"],
            "parameters": [{"in": "query", "schema": "InvoiceQuery"}],
            "responses": {**_ok("InvoiceList", "A page of invoices."), **_errors("400")},
        },
        "post": {
            "operationId": "createInvoice",
            "summary": "Issue an invoice (or keep a draft), and optionally email it",
            "description": "Issued at once (`open`) unless `draft` is true; `send` also emails "
            "it to the customer. The number is allocated when left out.",
            "tags": ["invoices"],
            "requestBody": _body("InvoiceCreate"),
            "responses": {
                **_ok("Invoice", "The new invoice.", "201"),
                **_errors(*_WRITE_ERRORS),
            },
        },
    },
    "/invoices/{invoice_id}": {
        "parameters": [_id("invoice_id")],
        "get": {
            "operationId": "getInvoice",
            "summary": "Read an invoice with its lines",
            "tags": ["invoices"],
            "responses": {**_ok("Invoice", "The invoice."), **_errors("404")},
        },
    },
    "/invoices/{invoice_id}/void": {
        "parameters": [_id("invoice_id")],
        "post": {
            "operationId": "voidInvoice",
            "summary": "Void an invoice nothing has been paid on",
            "tags": ["invoices"],
            "requestBody": _body("VoidRequest"),
            "responses": {
                **_ok("Invoice", "The void invoice."),
                **_errors("404", *_WRITE_ERRORS),
            },
        },
    },
    "/payments": {
        "get": {
            "operationId": "listPayments",
            "summary": "List payments",
            "tags": ["payments"],
            "parameters": [{"in": "query", "schema": "PaymentQuery"}],
            "responses": {**_ok("PaymentList", "A page of payments."), **_errors("400")},
        },
    },
    "/payments/{payment_id}": {
        "parameters": [_id("payment_id")],
        "get": {
            "operationId": "getPayment",
            "summary": "Read a payment with its allocations",
            "tags": ["payments"],
            "responses": {**_ok("Payment", "The payment."), **_errors("404")},
        },
    },
    "/ach-files": {
        "get": {
            "operationId": "listAchFiles",
            "summary": "List the vendor's NACHA files",
            "tags": ["ach"],
            "parameters": [{"in": "query", "schema": "AchFileQuery"}],
            "responses": {**_ok("AchFileList", "A page of ACH files."), **_errors("400")},
        },
    },
    "/ach-files/{file_id}/download": {
        "parameters": [_id("file_id")],
        "get": {
            "operationId": "downloadAchFile",
            "summary": "Download a NACHA file as it was sent to the bank",
            "tags": ["ach"],
            "responses": {
                "200": {
                    "description": "The file: 94-character records, ASCII.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **_errors("404"),
            },
        },
    },
    "/ach-returns": {
        "post": {
            "operationId": "importAchReturns",
            "summary": "Import the bank's return or NOC file",
            "description": "Checked whole first: a malformed file answers 422 naming the line and "
            "field, and nothing is applied. A file imported before answers 200 with "
            "`already_imported` and is not applied again.",
            "tags": ["ach"],
            "requestBody": _body("AchReturnUpload"),
            "responses": {
                "201": {
                    "description": "The file was imported.",
                    "content": {_JSON: {"schema": "AchImport"}},
                },
                **_ok("AchImport", "The same file was imported before."),
                **_errors(*_WRITE_ERRORS),
            },
        },
    },
}

# Every creating call takes an Idempotency-Key (vendor_console.api.idempotency).
for _operations in PATHS.values():
    if "post" in _operations:
        _operations["post"].setdefault("parameters", []).append(IDEMPOTENCY_KEY)

_SCHEMAS = {
    "Error": schemas.Error,
    "Customer": schemas.Customer,
    "CustomerCreate": schemas.CustomerCreate,
    "CustomerPatch": schemas.CustomerPatch,
    "CustomerList": schemas.CustomerList,
    "CustomerQuery": schemas.CustomerQuery,
    "Invoice": schemas.Invoice,
    "InvoiceCreate": schemas.InvoiceCreate,
    "InvoiceList": schemas.InvoiceList,
    "InvoiceQuery": schemas.InvoiceQuery,
    "VoidRequest": schemas.VoidRequest,
    "Payment": schemas.Payment,
    "PaymentList": schemas.PaymentList,
    "PaymentQuery": schemas.PaymentQuery,
    "AchFile": schemas.AchFile,
    "AchFileList": schemas.AchFileList,
    "AchFileQuery": schemas.AchFileQuery,
    "AchReturnUpload": schemas.AchReturnUpload,
    "AchImport": schemas.AchImport,
}


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return {
        schemas.ErrorDetail: "ErrorDetail",
        schemas.Line: "Line",
        schemas.LineCreate: "LineCreate",
        schemas.Allocation: "Allocation",
        schemas.LateFee: "LateFee",
    }.get(cls) or next(name for name, known in _SCHEMAS.items() if known is cls)


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="AR Portal API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": DESCRIPTION},
        servers=[{"url": "/api/v1", "description": "The console host."}],
        security=[{"apiKey": []}],
        tags=[
            {"name": "customers", "description": "The people and businesses invoices go to."},
            {"name": "invoices", "description": "Invoices, their lines and pay links."},
            {"name": "payments", "description": "Payments and their allocations to invoices."},
            {"name": "ach", "description": "NACHA files sent to the bank, and its return files."},
        ],
    )
    spec.components.security_scheme(
        "apiKey",
        {"type": "http", "scheme": "bearer", "description": "An API key: arp_<prefix>_<secret>."},
    )
    for name, schema in _SCHEMAS.items():
        if not name.endswith("Query"):
            spec.components.schema(name, schema=schema)
    for path, operations in copy.deepcopy(PATHS).items():  # apispec resolves schemas in place
        spec.path(path=path, parameters=operations.pop("parameters", None), operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi() -> Response:
    document = current_app.extensions.get("api_openapi")
    if document is None:
        document = current_app.extensions["api_openapi"] = build_spec()
    return jsonify(document)
