"""Serve the demo with gunicorn (as `make run` does) on a free loopback port and time some pages.

Every request goes to 127.0.0.1 with a Host header, so no name resolution is involved. Loops are
bounded by count and by time. Prints one line per scenario: requests/s, p50, p95 and p99 latency.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
MAX_SECONDS = 20.0

SCENARIOS = [
    ("health check", "localhost", "/healthz", "anonymous"),
    ("portal home (acme)", "acme.localhost", "/", "anonymous"),
    ("console sign-in page", "localhost", "/sign-in", "anonymous"),
    ("unknown host (neutral 404)", "nobody.localhost", "/", "anonymous"),
    ("console invoice list, 50 of 1,007", "localhost", "/invoices", "staff"),
    ("console dashboard", "localhost", "/", "staff"),
    ("portal open invoices (1,002 rows)", "acme.localhost", "/invoices", "payer"),
    ("pay review page (card, of 1,002 open)", "acme.localhost", "/pay/review", "draft"),
]
EXTRA_INVOICES = 1000

SEED = """
from datetime import date, timedelta
from decimal import Decimal
from sqlalchemy import select
from wsgi import create_app
from shared.extensions import db
from shared.customers.models import Customer
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.pay_links import make_token
from shared.tenancy import enter_tenant
from shared.clock import business_today, utcnow
from shared.unit_of_work import unit_of_work
from tenants.models import Tenant
app = create_app()
with app.app_context(), unit_of_work():
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
    enter_tenant(tenant.id)
    customer = db.session.scalars(select(Customer).where(Customer.client_number == "20000101")).one()
    today = business_today(tenant, utcnow())
    for i in range(%(count)d):
        invoice = create_invoice(customer_id=customer.id, issue_date=today - timedelta(days=i %% 90),
                                 due_date=today + timedelta(days=30 - i %% 90),
                                 lines=[LineInput("Bench line", Decimal("1"), 10000 + i)])
        open_invoice(invoice, now=utcnow())
    db.session.flush()
    print(today.isoformat(), invoice.id - %(count)d + 1, invoice.id)
    print(make_token(invoice, customer, today + timedelta(days=30)))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_request(
    port: int, host: str, path: str, cookie: str = "", body: dict | None = None
) -> float:
    """One GET, or a form POST when `body` is given; a 4xx or 5xx stops the run (but on the
    unknown host, whose 404 is the point)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": f"{host}:{port}"}
    if cookie:
        headers["Cookie"] = cookie
    if body is None:
        conn.request("GET", path, headers=headers)
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request("POST", path, body=urlencode(body, doseq=True), headers=headers)
    response = conn.getresponse()
    text = response.read()
    conn.close()
    if response.status >= 400 and "nobody" not in host:
        raise RuntimeError(f"{host}{path}: {response.status} {text[:300]!r}")
    return time.perf_counter() - started


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


class Checkout:
    """A guest's card payment from the pay link's session, as the pay page and its review post
    it: one sandbox token (the tokeniser is rate limited), then a fresh idempotency key and a
    $0.50 allocation to the next of the bench's invoices for every confirm."""

    def __init__(self, port: int, cookie: str, today: str, first_id: int, last_id: int):
        self.port, self.cookie, self.today = port, cookie, today
        self.ids = itertools.cycle(range(first_id, last_id + 1))
        self.lock = threading.Lock()
        host = f"acme.localhost:{port}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        card = {
            "number": "4242424242424242",
            "exp_month": "12",
            "exp_year": "2040",
            "cvc": "123",
            "postal_code": "10001",
        }
        conn.request(
            "POST",
            "/card-sandbox/tokens",
            body=json.dumps(card),
            headers={"Host": host, "Content-Type": "application/json"},
        )
        self.token = json.loads(conn.getresponse().read())["token"]
        conn.request("GET", "/pay", headers={"Host": host, "Cookie": cookie})
        response = conn.getresponse()
        self.csrf = _csrf(response.read().decode())
        # The pay page may renew the session (the CSRF token lives in it): post with that one.
        cookie = self.cookie = _session_cookie(response, default=cookie)
        invoice = next(self.ids)
        conn.request(
            "POST",
            "/pay",
            body=urlencode(self.fields(invoice), doseq=True),
            headers={
                "Host": host,
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = conn.getresponse()
        text = response.read()
        if response.status != 302:
            raise RuntimeError(
                f"pay page refused the bench's choice: {response.status} {text[:300]!r}"
            )
        self.draft_cookie = _session_cookie(response)
        conn.close()

    def fields(self, invoice: int) -> dict:
        return {
            "csrf_token": self.csrf,
            "invoice": str(invoice),
            f"amount-{invoice}": "0.50",
            "method": "card",
            "pay_on": self.today,
            "card_token": self.token,
            "bank_account": "",
            "saved_card": "",
            "receipt_email": "bench@example.test",
        }

    def confirm(self) -> dict:
        with self.lock:
            invoice = next(self.ids)
        return {**self.fields(invoice), "idempotency_key": uuid.uuid4().hex}


def _session_cookie(response: http.client.HTTPResponse, default: str | None = None) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith("session="):
            return header.split(";", 1)[0]
    if default is not None:
        return default
    raise RuntimeError("no session cookie")


def staff_cookie(port: int) -> str:
    """Sign in as the demo owner the way a browser does: form, CSRF token, post."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/sign-in", headers={"Host": f"localhost:{port}"})
    response = conn.getresponse()
    page = response.read().decode()
    cookie = _session_cookie(response)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    body = urlencode(
        {"csrf_token": token.group(1), "email": "owner@acme.test", "password": "demo-password-1"}
    )
    conn.request(
        "POST",
        "/sign-in",
        body=body,
        headers={
            "Host": f"localhost:{port}",
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in failed: {response.status}")
    return _session_cookie(response)


def payer_cookie(port: int, token: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/pay/{token}", headers={"Host": f"acme.localhost:{port}"})
    response = conn.getresponse()
    response.read()
    return _session_cookie(response)


def run(
    port: int, host: str, path: str, cookie: str, body=None
) -> tuple[float, float, float, float, int]:
    """`body`, when given, makes each request a POST of `body()`."""
    deadline = time.perf_counter() + MAX_SECONDS
    latencies: list[float] = []

    def one() -> float:
        return one_request(port, host, path, cookie, body() if body else None)

    def worker(count: int) -> list[float]:
        mine = []
        for _ in range(count):
            if time.perf_counter() > deadline:
                break
            mine.append(one())
        return mine

    for _ in range(20):  # warm up
        one()
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for result in pool.map(worker, [REQUESTS // CONCURRENCY] * CONCURRENCY):
            latencies.extend(result)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    median = statistics.median(latencies)
    return len(latencies) / elapsed, median * 1000, p95 * 1000, p99 * 1000, len(latencies)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "INSTANCE_PATH": tmp,
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite"),
            "FLASK_APP": "wsgi",
        }
        port = free_port()
        env["PORT"] = str(port)
        flask = [sys.executable, "-m", "flask"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        subprocess.run([*flask, "demo", "load"], env=env, cwd=ROOT, check=True, capture_output=True)
        seeded = subprocess.run(
            [sys.executable, "-c", SEED % {"count": EXTRA_INVOICES}],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        *_, facts, pay_token = seeded.stdout.strip().splitlines()
        today, first_id, last_id = facts.split()
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed in finally
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "config/gunicorn.conf.py",
                "wsgi:create_app()",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            for _ in range(100):
                try:
                    one_request(port, "localhost", "/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            print(
                f"gunicorn, {os.environ.get('WEB_CONCURRENCY', '2')} sync workers, "
                f"{CONCURRENCY} client threads, up to {REQUESTS} requests per scenario"
            )
            print(
                f"{'scenario':36} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'n':>6}"
            )
            cookies = {
                "anonymous": "",
                "staff": staff_cookie(port),
                "payer": payer_cookie(port, pay_token),
            }
            checkout = Checkout(port, cookies["payer"], today, int(first_id), int(last_id))
            cookies["draft"] = checkout.draft_cookie
            for name, host, path, who in SCENARIOS:
                rate, p50, p95, p99, count = run(port, host, path, cookies[who])
                print(f"{name:36} {rate:8.0f} {p50:8.1f} {p95:8.1f} {p99:8.1f} {count:6d}")
            # Every confirm is a new payment: a charge in the sandbox and a receipt in the outbox.
            name = "pay confirm (card, new payment each)"
            rate, p50, p95, p99, count = run(
                port, "acme.localhost", "/pay/confirm", checkout.cookie, checkout.confirm
            )
            print(f"{name:36} {rate:8.0f} {p50:8.1f} {p95:8.1f} {p99:8.1f} {count:6d}")
        except Exception:
            log.flush()
            print((Path(tmp) / "server.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
