"""Each side has its own URL map, and the request's host picks the map before any view runs.

Both sides want short paths (`/`, `/sign-in`), so their rules cannot share one map. Blueprints register
as usual; `split_url_maps` then moves the portal's rules into a map of its own, copying the few rules
both sides answer (static files, health checks). `SidedFlask.create_url_adapter` binds the map of the
request's side, so `url_for` builds the right paths on each side, and `portal_url` builds absolute
portal links for a tenant (emails, previews) from configuration, never from the request's Host.
"""

from __future__ import annotations

from flask import Flask, Request
from werkzeug.routing import Map, MapAdapter
from werkzeug.sansio.utils import get_host

from tenants.hosts import Side, side_of

BOTH_SIDES = frozenset({"static", "healthz", "readyz", "set_language"})


class SidedFlask(Flask):
    side_maps: dict[Side, Map]

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is None or not hasattr(self, "side_maps"):
            return super().create_url_adapter(request)
        request.host = get_host(  # type: ignore[misc]
            request.scheme, request.environ.get("HTTP_HOST"), request.server, None
        )
        side = side_of(request.environ.get("HTTP_HOST"), self.config["CONSOLE_HOST"])
        return self.side_maps[side].bind_to_environ(request.environ, subdomain="")


def _empty_map_like(source: Map) -> Map:
    return Map(
        strict_slashes=source.strict_slashes,
        merge_slashes=source.merge_slashes,
        redirect_defaults=source.redirect_defaults,
        converters=dict(source.converters),
    )


def split_url_maps(app: SidedFlask, portal_blueprints: set[str]) -> None:
    """Give the portal's blueprints a map of their own; call once, after every blueprint is in."""
    console, portal = _empty_map_like(app.url_map), _empty_map_like(app.url_map)
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if rule.endpoint in BOTH_SIDES:
            console.add(rule.empty())
            portal.add(rule.empty())
        elif blueprint.split(".")[0] in portal_blueprints:
            portal.add(rule.empty())
        else:
            console.add(rule.empty())
    app.url_map = console
    app.side_maps = {Side.CONSOLE: console, Side.PORTAL: portal}


def portal_url(app: Flask, host: str, endpoint: str, **values: object) -> str:
    """An absolute URL on a tenant's portal host."""
    adapter = app.side_maps[Side.PORTAL].bind(host, url_scheme=app.config["PREFERRED_URL_SCHEME"])  # type: ignore[attr-defined]
    return adapter.build(endpoint, values, force_external=True)


def console_url(app: Flask, endpoint: str, **values: object) -> str:
    """An absolute URL on the console host."""
    adapter = app.side_maps[Side.CONSOLE].bind(  # type: ignore[attr-defined]
        app.config["CONSOLE_HOST"], url_scheme=app.config["PREFERRED_URL_SCHEME"]
    )
    return adapter.build(endpoint, values, force_external=True)
