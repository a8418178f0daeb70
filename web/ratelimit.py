"""Rate limits per API client per store, from the plan's apiRequestsPerMinute (a super admin may
override it), counted in Redis so they hold across every web process and machine.

A counted request costs one Redis round trip: the sliding window counter's script, which keeps
two counters per client whatever its limit (a moving window keeps one list entry per request of
the last minute: a client allowed a million a minute made each check walk a list of 100,000). No
X-RateLimit-* headers are sent, as each would cost a second round trip. A refused request (429) says in
Retry-After when a request will be counted again (retry_after, read only then)."""
from __future__ import annotations

import time

from flask import Flask, g, request
from flask_limiter import Limiter

from core.errors import Unauthorized
from core.tenancy.directory import Store, find_store
from core.tenancy.features import Limit, effective_limits
from web.auth import current_principal
from web.requests import is_api_request

DEFAULT_PER_MINUTE = 600


def storage_uri(redis_url: str) -> str:
    """The `limits` library's name for the same Redis (unix sockets are 'redis+unix://')."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def _client_and_tenant() -> tuple[str, Store] | None:
    """(client subject, tenant) when the request is an API client's call to a store; else None."""
    if "rate_limited_client" not in g:
        result = None
        if is_api_request() and request.headers.get("Authorization", "").lower().startswith("bearer "):
            try:
                principal = current_principal()
            except Unauthorized:
                principal = None  # not a client's call: the endpoint refuses it if it needs one
            if principal is not None and principal.tenant and not principal.is_superadmin:
                tenant = find_store(principal.tenant)
                if tenant is not None:
                    result = (principal.subject, tenant)
        g.rate_limited_client = result
    return g.rate_limited_client


def rate_limit_key() -> str:
    found = _client_and_tenant()
    return f"{found[1].slug}:{found[0]}" if found else "anonymous"


def client_limit() -> str:
    found = _client_and_tenant()
    per_minute = effective_limits(found[1]).get(Limit.API_REQUESTS_PER_MINUTE, DEFAULT_PER_MINUTE) if found \
        else DEFAULT_PER_MINUTE
    return f"{per_minute}/minute"


def exempt() -> bool:
    """Only API clients' calls to a store are limited: anonymous shoppers, portal pages and
    super admins are not counted (and so never touch Redis for it)."""
    return _client_and_tenant() is None


def retry_after() -> int | None:
    """Seconds until the limit this request broke lets a request through again (one Redis
    round trip; only asked for a 429)."""
    breached = limiter.current_limit
    if breached is None:
        return None
    return max(1, int(breached.reset_at - time.time()))


limiter = Limiter(key_func=rate_limit_key, application_limits=[client_limit])
# Checked before any limit is resolved: an exempt request costs the limiter nothing more.
limiter.request_filter(exempt)


def init_rate_limits(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_STRATEGY", "sliding-window-counter")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # A Redis outage must not take the API down with it: limits lapse, requests go on.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "storefleet-rl")
    limiter.init_app(app)
