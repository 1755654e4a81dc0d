"""`/api/v1/customers`: create, read, list and change the vendor's customers."""

from __future__ import annotations

from flask import url_for

from shared import customers
from vendor_console.api import actor, bp, key_required, parsing
from vendor_console.api.errors import not_found
from vendor_console.api.fields import MAX_ID
from vendor_console.api.paging import page
from vendor_console.api.schemas import Customer, CustomerCreate, CustomerPatch, CustomerQuery


def _found(customer_id: int):
    # Ids beyond 32 bits exist nowhere; the database would refuse to even compare them.
    customer = customers.get_customer(customer_id) if customer_id <= MAX_ID else None
    if customer is None:
        raise not_found()
    return customer


@bp.post("/customers")
@key_required
def create_customer():
    data = parsing.body(CustomerCreate())
    customer = customers.create_customer(**data, actor=actor())
    location = url_for("api.get_customer", customer_id=customer.id)
    return Customer().dump(customer), 201, {"Location": location}


@bp.get("/customers/<int:customer_id>")
@key_required
def get_customer(customer_id: int):
    return Customer().dump(_found(customer_id))


@bp.patch("/customers/<int:customer_id>")
@key_required
def update_customer(customer_id: int):
    customer = _found(customer_id)
    changes = parsing.body(CustomerPatch())
    customers.update_customer(customer, **changes, actor=actor())
    return Customer().dump(customer)


@bp.get("/customers")
@key_required
def list_customers():
    args = parsing.query(CustomerQuery())

    def fetch(after_id: int, limit: int):
        return customers.customers_after(
            after_id,
            limit,
            query=args.get("q", ""),
            archived=args.get("archived", False),
            updated_since=args.get("updated_since"),
        )

    return page("customers", fetch, args, Customer(many=True).dump)
