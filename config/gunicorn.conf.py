"""gunicorn settings; `make run` and production both use this file."""

import os

# The same defaults as config/__init__.py, which builds the emailed links' port from PORT and refuses
# in-memory rate limits in production when WEB_CONCURRENCY is above 1.
bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or "2")
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# The app logs one line per request itself (with tenant and request id); gunicorn's is redundant.
accesslog = None
errorlog = "-"
loglevel = "info"
# Big enough for normal headers; a Host or cookie flood is refused by gunicorn itself.
limit_request_field_size = 8190
