"""One unit of work per request, command or job: the only module that commits.

Operations flush and never commit. A request commits once, after its view, when its response is a
success or a redirect (status below 400) and no code said `discard()`; an error response or an
exception rolls everything back. Commands and jobs wrap their work in `with unit_of_work():`. Mail
queued during the unit is delivered after its commit (see `shared.mail`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response
from sqlalchemy.orm import Session

from shared.extensions import db

_DISCARDED = "unit_of_work_discarded"


def discard(session: Session | None = None) -> None:
    """Roll back what this unit wrote so far, and never commit it (a form shown again, a refusal).

    Later writes of the same request are not committed either: a view that gave up on its change
    must not save half of it by redirecting.
    """
    session = session or db.session()
    session.rollback()
    session.info[_DISCARDED] = True


def _finish(session: Session, ok: bool) -> None:
    discarded = session.info.pop(_DISCARDED, False)
    if ok and not discarded:
        session.commit()
    else:
        session.rollback()


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Commit once when the block ends normally; roll back if it raises or called `discard()`."""
    session = session or db.session()
    session.info.pop(_DISCARDED, None)
    try:
        yield session
    except BaseException:
        session.info.pop(_DISCARDED, None)
        session.rollback()
        raise
    _finish(session, ok=True)


@contextmanager
def separate_unit() -> Iterator[Session]:
    """A unit of work on its own connection, kept whatever happens to the request around it
    (bookkeeping such as an API key's last use); committed when the block ends normally."""
    with Session(db.engine) as session, unit_of_work(session):
        yield session


def init_app(app: Flask) -> None:
    """Commit each request's unit of work once, after its view."""

    @app.after_request
    def finish_unit_of_work(response: Response) -> Response:
        # after_request handlers run last-registered first: this one is registered first so that
        # it runs after every other handler, and a failed commit still becomes a 500.
        _finish(db.session(), ok=response.status_code < 400)
        return response
