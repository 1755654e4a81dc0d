"""The README's API walk-through, step by step: a key from `flask tenants api-key`, a customer, an
invoice, and both read back (the same calls as the curl session in the README)."""

from __future__ import annotations

from tests.api.conftest import TODAY, Api


def test_the_readme_walk_through(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    made = runner.invoke(args=["tenants", "api-key", "--slug", "acme", "--name", "README"])
    assert made.exit_code == 0, made.output
    api = Api(app, made.stdout.strip())

    customer = api.post(
        "/api/v1/customers", {"name": "Harbor View Dental", "email": "ap@harbor.test"}
    )
    assert customer.status_code == 201, customer.get_json()
    customer_id = customer.get_json()["id"]

    invoice = api.post(
        "/api/v1/invoices",
        {
            "customer_id": customer_id,
            "issue_date": TODAY.isoformat(),
            "due_date": TODAY.isoformat(),
            "lines": [{"description": "Dental supplies", "quantity": "2", "unit_price": "12.50"}],
            "send": True,
        },
    )
    assert invoice.status_code == 201, invoice.get_json()
    body = invoice.get_json()
    assert body["status"] == "open"
    assert body["total"] == "25.00"
    assert body["pay_url"].startswith("http://acme.localhost:8000/pay/")

    assert api.get(f"/api/v1/customers/{customer_id}").get_json() == customer.get_json()
    assert api.get(f"/api/v1/invoices/{body['id']}").get_json() == body
    listed = api.get(f"/api/v1/invoices?customer_id={customer_id}").get_json()
    assert listed == {"data": [body], "next_cursor": None}
