"""Console customers: create, edit, archive, search, CSV import — and nothing of another tenant's."""

import io

import pytest
from sqlalchemy import func, select

from shared.customers import create_customer
from shared.customers.models import Customer
from shared.extensions import db
from shared.tenancy import leave_tenant, tenant_scope
from tests.conftest import submit

NEW = {
    "name": "Harbor View Dental LLC",
    "email": "billing@harborview.test",
    "cc_emails": "",
    "phone": "+1 (305) 555-0100",
    "client_number": "",
    "language": "en",
    "kind": "business",
}


def customers_of(tenant_id: int) -> list[Customer]:
    with tenant_scope(tenant_id):
        return list(db.session.scalars(select(Customer).order_by(Customer.id)))


@pytest.fixture
def acme(signed_in_console):
    from tenants.models import Tenant

    return db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()


def test_create_a_customer_with_the_next_client_number(app, signed_in_console, acme):
    response = submit(signed_in_console, "/customers/new", NEW)
    assert response.status_code == 302
    [customer] = customers_of(acme.id)
    assert customer.client_number == "20000001"
    assert customer.phone == "+1 (305) 555-0100"
    second = submit(
        signed_in_console, "/customers/new", {**NEW, "name": "Harbor Two", "email": "x@harbor.test"}
    )
    assert second.status_code == 302
    assert [c.client_number for c in customers_of(acme.id)] == ["20000001", "20000002"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required"),
        ("email", "not-an-email", "Enter a valid email address"),
        ("client_number", "12345678", "8 digits and starts with 2"),
        ("client_number", "2abc", "8 digits and starts with 2"),
        ("phone", "<script>", "Enter a phone number"),
        ("cc_emails", "a@b.test, nope", "Enter a valid email address"),
        ("language", "fr", "Not a valid choice"),
        ("kind", "alien", "Not a valid choice"),
        ("name", "N" * 201, "at most 200 characters"),
    ],
)
def test_bad_customer_input_is_refused_clearly(app, signed_in_console, acme, field, value, message):
    response = submit(signed_in_console, "/customers/new", {**NEW, field: value})
    assert response.status_code == 422
    assert message.lower() in response.get_data(as_text=True).lower()
    assert customers_of(acme.id) == []


def test_duplicate_client_number_is_refused(app, signed_in_console, acme):
    submit(signed_in_console, "/customers/new", {**NEW, "client_number": "20001234"})
    # Confirmed as a second customer despite the look-alike warning: the number is still refused.
    response = submit(
        signed_in_console,
        "/customers/new",
        {**NEW, "client_number": "20001234", "add_anyway": "1"},
    )
    assert response.status_code == 422
    assert "Another customer has this client number" in response.get_data(as_text=True)
    assert len(customers_of(acme.id)) == 1


def test_edit_and_archive(app, signed_in_console, acme):
    submit(signed_in_console, "/customers/new", NEW)
    [customer] = customers_of(acme.id)
    path = f"/customers/{customer.id}"
    response = submit(
        signed_in_console,
        path,
        {**NEW, "name": "Harbor View Dental", "client_number": "20000001", "language": "es"},
    )
    assert response.status_code == 302
    # A bad edit changes nothing at all, not even the valid fields sent with it.
    bad = submit(signed_in_console, path, {**NEW, "name": "Renamed", "client_number": "999"})
    assert bad.status_code == 422
    db.session.expire_all()
    [customer] = customers_of(acme.id)
    assert customer.name == "Harbor View Dental"
    assert customer.language == "es"
    submit(signed_in_console, f"{path}/archive", {}, form_path=path)
    db.session.expire_all()
    assert customers_of(acme.id)[0].archived_at is not None
    listing = signed_in_console.get("/customers").get_data(as_text=True)
    assert ">Harbor View Dental</a>" not in listing
    assert ">Harbor View Dental</a>" in signed_in_console.get("/customers?archived=1").get_data(
        as_text=True
    )


def test_search(app, signed_in_console, acme):
    with tenant_scope(acme.id):
        for name in ("Alpha Co", "Beta LLC", "Gamma Inc"):
            create_customer(name=name, email=f"{name.split()[0].lower()}@x.test")
        db.session.commit()
    leave_tenant()
    page = signed_in_console.get("/customers?q=beta").get_data(as_text=True)
    assert "Beta LLC" in page
    assert "Alpha Co" not in page
    assert "Gamma Inc" in signed_in_console.get("/customers?q=20000003").get_data(as_text=True)
    hostile = signed_in_console.get("/customers?q=%25%27%22<script>&page=abc")
    assert hostile.status_code == 200
    assert "<script>" not in hostile.get_data(as_text=True)


def test_another_tenants_customer_is_404(app, signed_in_console, make_tenant):
    globex, _ = make_tenant("globex")
    with tenant_scope(globex.id):
        theirs = create_customer(name="Globex Customer", email="c@globex.test")
        db.session.commit()
        their_id = theirs.id
    leave_tenant()
    assert signed_in_console.get(f"/customers/{their_id}").status_code == 404
    response = submit(
        signed_in_console, f"/customers/{their_id}/archive", {}, form_path="/customers"
    )
    assert response.status_code == 404
    assert "Globex Customer" not in signed_in_console.get("/customers?q=globex").get_data(
        as_text=True
    )


def test_customer_list_query_count_does_not_grow(app, signed_in_console, acme, count_queries):
    def add(n):
        with tenant_scope(acme.id):
            for i in range(n):
                create_customer(name=f"Customer {i:03d}", email=f"c{i}@x.test")
            db.session.commit()
        leave_tenant()

    add(3)
    with count_queries() as few:
        assert signed_in_console.get("/customers").status_code == 200
    add(40)
    with count_queries() as many:
        assert signed_in_console.get("/customers").status_code == 200
    assert many.count == few.count


# --- CSV import -------------------------------------------------------------------------------


def upload(client, path, content: bytes, filename="customers.csv"):
    from tests.conftest import csrf_token

    token = csrf_token(client, path)
    return client.post(
        path,
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def test_import_customers(app, signed_in_console, acme):
    csv_text = "name,email,client_number,language,type\nAlpha Co,a@x.test,,en,business\nMaría López,m@x.test,20009999,es,personal\n"
    response = upload(signed_in_console, "/customers/import", csv_text.encode())
    assert response.status_code == 302
    customers = customers_of(acme.id)
    assert [(c.name, c.language, c.kind.value) for c in customers] == [
        ("Alpha Co", "en", "business"),
        ("María López", "es", "personal"),
    ]


def test_one_bad_row_among_1000_imports_nothing(app, signed_in_console, acme):
    rows = ["name,email"] + [f"Customer {i},c{i}@x.test" for i in range(1000)]
    rows[730] = "Customer 729,not-an-email"  # the header is row 1, so this is row 731
    response = upload(signed_in_console, "/customers/import", "\n".join(rows).encode())
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported" in body
    assert "<td>731</td><td>email</td><td>Enter a valid email address.</td>" in body
    assert customers_of(acme.id) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"email\nx@x.test\n", "Missing columns: name"),
        (b"name,email,password\nA,a@x.test,x\n", "Unknown columns: password"),
        (b"\xff\xfe\x00n\x00a", "not UTF-8"),
        (b"GIF89a\x00\x00;alert(1)", "This is not a CSV file"),
        (
            b"name,email\n" + b"A,a@x.test\n" * 10,
            "Another customer has this client number" if False else None,
        ),
    ],
)
def test_unusable_csv_files_are_refused(app, signed_in_console, acme, content, message):
    response = upload(signed_in_console, "/customers/import", content)
    if message is None:
        assert response.status_code == 302  # ten customers with the same name are fine
        return
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert customers_of(acme.id) == []


def test_duplicate_client_numbers_inside_the_file(app, signed_in_console, acme):
    content = b"name,email,client_number\nA,a@x.test,20000005\nB,b@x.test,20000005\n"
    response = upload(signed_in_console, "/customers/import", content)
    assert response.status_code == 422
    assert "<td>3</td><td>client_number</td>" in response.get_data(as_text=True)
    assert customers_of(acme.id) == []
    count = db.session.scalar(
        select(func.count()).select_from(Customer).execution_options(all_tenants=True)
    )
    assert count == 0
