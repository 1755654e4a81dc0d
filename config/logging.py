"""Logging: one line per request with its id, side, tenant, status and duration."""

from __future__ import annotations

import logging
import re
import sys
import time

from flask import Flask, Response, g, request

request_log = logging.getLogger("arportal.request")
# A run of 13 to 19 digits in a path could be a card number: never written to a log.
_LONG_DIGITS = re.compile(r"\d{13,19}")


def configure_logging(app: Flask) -> None:
    if logging.getLogger("arportal").handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("arportal")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = True


def log_request(response: Response) -> None:
    started = g.get("started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    tenant = g.get("tenant")
    request_log.info(
        "request_id=%s side=%s tenant=%s method=%s path=%s status=%s duration_ms=%.1f",
        g.get("request_id", "-"),
        g.get("side") or "-",
        tenant.slug if tenant is not None else "-",
        request.method,
        _LONG_DIGITS.sub("[redacted]", request.path[:200]),
        response.status_code,
        duration_ms,
    )
