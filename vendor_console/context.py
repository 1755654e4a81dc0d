"""Who acts and when, for the console's views: the signed-in staff user and the vendor's clock."""

from __future__ import annotations

from datetime import date

from flask import g
from flask_login import current_user

from shared.actors import Actor
from shared.clock import business_today, utcnow


def actor() -> Actor:
    return Actor.staff(current_user)


def today() -> date:
    """The vendor's today, in its time zone."""
    return business_today(g.tenant, utcnow())
