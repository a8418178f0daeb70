"""Rate limits per API client per store, from the plan's apiRequestsPerMinute (a super admin may
override it), counted in Redis so they hold across every web process and machine.

The counting is the `limits` library's sliding window counter (Flask-Limiter's own engine): two
counters per client in Redis whatever its limit, moved by one script. This module is the thin
Flask side of it, without Flask-Limiter, whose per-request work cost more than a whole anonymous
catalog request served from a kept page.

Leases. A process does not ask Redis for every request. It counts a lease of requests in Redis
at once (one round trip) and lets them through locally until the lease is used up or a second
old (LEASE_SECONDS). A lease is as large as what the client sent this process in the last
second, at most 1 % of its limit: a client calling now and then leases one request at a time (a
round trip each, exactly as before), a client calling fast costs a round trip per hundred
requests or fewer. Since every request let through was counted in Redis first, a client never
gets more than its limit; it may be refused early by what leases held and did not use when it
slowed down: at most 1 % of its limit for each process it reached. Within one process, a
client gets exactly its limit. A request is let through within a second of being counted.

A refused request (429) says in Retry-After when a request will be counted again (one more round
trip, only then); the process repeats the refusal for a second without asking Redis again. No X-RateLimit-* headers are sent. When Redis cannot be reached the limits
lapse and requests go on, with one warning a minute in the log.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from werkzeug.exceptions import TooManyRequests

from core.auth import throttle
from core.caching import WarnNowAndThen
from core.errors import Unauthorized
from core.tenancy.directory import Store, find_store
from core.tenancy.features import Limit, effective_limits
from web.auth import current_principal
from web.requests import is_api_request

DEFAULT_PER_MINUTE = 600
LEASE_SECONDS = 1.0
LEASE_SHARE = 100  # a lease is at most 1/LEASE_SHARE of the client's limit
KEPT_LEASES = 10_000  # leases a process keeps before it drops the expired ones

log = logging.getLogger(__name__)
_EXTENSION = "storefleet.rate_limits"


def storage_uri(redis_url: str) -> str:
    """The `limits` library's name for the same Redis (unix sockets are 'redis+unix://')."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


@dataclass
class Lease:
    """Requests of one client counted in Redis and not yet let through by this process; or,
    with `retry_after`, a refusal this process repeats for a second without asking Redis."""

    size: int
    left: int
    taken_at: float
    retry_after: int | None = None


class RateLimits:
    """The leases of one process and the Redis counters behind them (see the module's doc)."""

    def __init__(self, uri: str, key_prefix: str, clock=time.monotonic) -> None:
        self._storage_uri, self._key_prefix, self._clock = uri, key_prefix, clock
        self._limiter: SlidingWindowCounterRateLimiter | None = None
        self._leases: dict[tuple, Lease] = {}
        self._lock = threading.Lock()
        self._warn = WarnNowAndThen(log)

    @property
    def limiter(self) -> SlidingWindowCounterRateLimiter:
        if self._limiter is None:
            self._limiter = SlidingWindowCounterRateLimiter(
                storage_from_string(self._storage_uri, key_prefix=self._key_prefix))
        return self._limiter

    def admit(self, slug: str, subject: str, per_minute: int) -> int | None:
        """Let one request of `subject` in store `slug` through: None when it may go on, else
        the seconds until a request will be counted again (the caller answers 429)."""
        key = (slug, subject, per_minute)
        now = self._clock()
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and now - lease.taken_at < LEASE_SECONDS:
                if lease.left > 0:
                    lease.left -= 1
                    return None
                if lease.retry_after is not None:
                    return max(1, lease.retry_after - int(now - lease.taken_at))
            size = self._next_size(lease, now, per_minute)
        item = RateLimitItemPerMinute(per_minute)
        try:
            counted = self.limiter.hit(item, slug, subject, cost=size)
            if not counted and size > 1:
                size, counted = 1, self.limiter.hit(item, slug, subject)
            retry_after = None
            if not counted:
                reset_at = self.limiter.get_window_stats(item, slug, subject).reset_time
                retry_after = max(1, int(reset_at - time.time()))
        except Exception as exc:  # noqa: BLE001 - any failure of Redis lets the request through
            self._warn.warning("Rate limits lapse: Redis cannot be reached: %s", exc)
            return None
        with self._lock:
            if len(self._leases) >= KEPT_LEASES:
                self._drop_expired(now)
            self._leases[key] = Lease(size, size - 1, now) if counted else Lease(0, 0, now, retry_after)
        return retry_after

    @staticmethod
    def _next_size(lease: Lease | None, now: float, per_minute: int) -> int:
        """What the client sent this process in the last second, from how fast it used its last
        lease: 1 for a first or slow client, at most 1/LEASE_SHARE of its limit."""
        if lease is None or lease.left > 0:
            return 1
        elapsed = now - lease.taken_at
        if elapsed >= LEASE_SECONDS:
            return 1
        rate = lease.size * LEASE_SECONDS / max(elapsed, 0.001)
        return max(1, min(int(rate), per_minute // LEASE_SHARE))

    def _drop_expired(self, now: float) -> None:
        for key in [key for key, lease in self._leases.items() if now - lease.taken_at >= LEASE_SECONDS]:
            del self._leases[key]


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


def check_rate_limit() -> None:
    """before_request: count an API client's call to a store against its limit (429 when it is
    spent). Anonymous shoppers, portal pages and super admins are not counted."""
    found = _client_and_tenant()
    if found is None:
        return
    subject, store = found
    per_minute = effective_limits(store).get(Limit.API_REQUESTS_PER_MINUTE, DEFAULT_PER_MINUTE)
    retry_after = current_app.extensions[_EXTENSION].admit(store.slug, subject, per_minute)
    if retry_after is not None:
        raise TooManyRequests(f"This client may make {per_minute} requests a minute to this store.",
                              retry_after=retry_after)


def check_token_requests(address: str | None) -> None:
    """/auth/token: at most AUTH_TOKEN_REQUESTS_PER_MINUTE requests a minute from one client
    address, answered or refused (429 past it), counted like an API client's calls."""
    per_minute = current_app.config["AUTH_TOKEN_REQUESTS_PER_MINUTE"]
    retry_after = current_app.extensions[_EXTENSION].admit(
        "auth-token", f"{throttle.deployment()}:{address or 'unknown'}", per_minute)
    if retry_after is not None:
        raise TooManyRequests(f"At most {per_minute} token requests a minute are taken from one address.",
                              retry_after=retry_after)


def init_rate_limits(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "storefleet-rl")
    app.extensions[_EXTENSION] = RateLimits(app.config["RATELIMIT_STORAGE_URI"], app.config["RATELIMIT_KEY_PREFIX"])
    app.before_request(check_rate_limit)
