"""The address a request came from, as rate limits and logs see it."""

from flask import request


def client_address() -> str:
    # gunicorn serves behind a proxy in production; ProxyFix (config TRUSTED_PROXIES) has already
    # rewritten remote_addr by the time this runs, so the header is never read here directly.
    return request.remote_addr or "unknown"
