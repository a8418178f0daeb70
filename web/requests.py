"""Which kind of request this is: a call of the JSON API (answered in JSON and problem+json) or
a page of the storefront or a portal (answered in HTML).

A routed request is an API call when its blueprint is one of the API's (marked by
`mark_api_blueprint` as the API registers them). A request that matched no route (404, 405) has
no blueprint: it is an API call when its first path segment is one the API's own routes start
with (/api, /inventory, /auth, ...), so those prefixes are read off the routes themselves and
never listed by hand.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, request

_API_BLUEPRINTS = "storefleet.api_blueprints"
_API_SEGMENTS = "storefleet.api_path_segments"


def mark_api_blueprint(app: Flask, blueprint: Blueprint | str) -> None:
    """Record that `blueprint` (registered on `app`) serves the JSON API."""
    name = blueprint if isinstance(blueprint, str) else blueprint.name
    app.extensions.setdefault(_API_BLUEPRINTS, set()).add(name)
    app.extensions.pop(_API_SEGMENTS, None)  # read again from the routes on next use


def _api_segments(app: Flask) -> frozenset[str]:
    segments = app.extensions.get(_API_SEGMENTS)
    if segments is None:
        api = app.extensions.get(_API_BLUEPRINTS, set())
        segments = app.extensions[_API_SEGMENTS] = frozenset(
            _first_segment(rule.rule) for rule in app.url_map.iter_rules()
            if rule.endpoint.partition(".")[0] in api and "." in rule.endpoint)
    return segments


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def is_api_request() -> bool:
    """Whether this request is a call of the JSON API (see the module's doc)."""
    app = current_app
    if request.blueprint is not None:
        return request.blueprint in app.extensions.get(_API_BLUEPRINTS, ())
    return _first_segment(request.path) in _api_segments(app)
