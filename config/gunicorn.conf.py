"""gunicorn settings; `make run` and production both use this file."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# The app logs one line per request itself (with tenant and request id); gunicorn's is redundant.
accesslog = None
errorlog = "-"
loglevel = "info"
# Big enough for normal headers; a Host or cookie flood is refused by gunicorn itself.
limit_request_field_size = 8190
