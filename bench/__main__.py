"""Serve the demo with gunicorn (as `make run` does) on a free loopback port and time some pages.

Every request goes to 127.0.0.1 with a Host header, so no name resolution is involved. Loops are
bounded by count and by time. Prints one line per scenario: requests/s, p50 and p95 latency.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
MAX_SECONDS = 20.0

SCENARIOS = [
    ("health check", "localhost", "/healthz"),
    ("portal home (acme)", "acme.localhost", "/"),
    ("console sign-in page", "localhost", "/sign-in"),
    ("unknown host (neutral 404)", "nobody.localhost", "/"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_request(port: int, host: str, path: str) -> float:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": f"{host}:{port}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status >= 500:
        raise RuntimeError(f"{host}{path}: {response.status}")
    return time.perf_counter() - started


def run(port: int, host: str, path: str) -> tuple[float, float, float, int]:
    deadline = time.perf_counter() + MAX_SECONDS
    latencies: list[float] = []

    def worker(count: int) -> list[float]:
        mine = []
        for _ in range(count):
            if time.perf_counter() > deadline:
                break
            mine.append(one_request(port, host, path))
        return mine

    for _ in range(20):  # warm up
        one_request(port, host, path)
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for result in pool.map(worker, [REQUESTS // CONCURRENCY] * CONCURRENCY):
            latencies.extend(result)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p95 * 1000, len(latencies)


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
            stderr=subprocess.DEVNULL,
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
            print(f"{'scenario':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'n':>6}")
            for name, host, path in SCENARIOS:
                rate, p50, p95, count = run(port, host, path)
                print(f"{name:32} {rate:8.0f} {p50:8.1f} {p95:8.1f} {count:6d}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
