"""Per-process caches of control-database rows that every request reads (the stores, the API
clients' revocations), and how a commit makes every process forget what it changed.

A web process or worker keeps what it read. A commit that changes a kept row (a listener on the
control session sees it) makes its own process forget the row at once, and announces it on a
Redis stream (ChangeFeed); every process reads the stream at most once every STORE_CACHE_SECONDS
before it uses what it keeps, and forgets what was announced. So a change is seen everywhere
within STORE_CACHE_SECONDS, at the cost of one Redis round trip per process in that time
(however many stores it keeps), not one read of the control database per kept row.

What no commit of the app announced (a row changed with psql) is read again once its entry is
STORE_CACHE_MAX_SECONDS old. When Redis cannot be read, or may have lost announcements (its data
was lost, the stream was trimmed past what this process read), a process forgets everything the
feed keeps: nothing stays stale for longer than STORE_CACHE_SECONDS.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Callable, Generic, Hashable, TypeVar

from cachetools import Cache, TLRUCache, TTLCache
from flask import Flask, current_app, has_app_context
from flask_sqlalchemy.session import Session as ControlSession
from redis import Redis, RedisError
from sqlalchemy import event

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ProcessCache(Generic[K, V]):
    """A thread-safe cachetools cache: ProcessCache(ttl) keeps at most `size` entries for
    `ttl_seconds` each (TTLCache; a ttl of 0 keeps nothing), ProcessCache.until(expiry) keeps
    each until the time expiry(value) gives (TLRUCache, on time.time); the least recently used
    entry is dropped first."""

    def __init__(self, ttl_seconds: float, size: int = 10_000, timer: Callable[[], float] = time.monotonic,
                 *, entries: Cache | None = None, before_read: Callable[[], None] | None = None) -> None:
        if entries is None and ttl_seconds > 0:
            entries = TTLCache(size, ttl_seconds, timer)
        self._entries = entries
        self._lock = threading.Lock()
        self._before_read = before_read   # a ChangeFeed's catch_up: forget what others changed

    @classmethod
    def until(cls, expiry: Callable[[V], float], size: int = 10_000) -> ProcessCache[K, V]:
        """Entries kept until expiry(value), a POSIX timestamp (a token's `exp`)."""
        return cls(0, entries=TLRUCache(size, lambda _key, value, _now: expiry(value), time.time))

    def get(self, key: K, load: Callable[[K], V], keep: Callable[[V], bool] = lambda value: True) -> V:
        """The kept value of `key`, else load(key) — kept when keep(value) says so."""
        if self._entries is None:
            return load(key)
        if self._before_read is not None:
            self._before_read()
        with self._lock:
            found = self._entries.get(key, _MISSING)
        if found is not _MISSING:
            return found
        value = load(key)
        if keep(value):
            with self._lock:
                self._entries[key] = value
        return value

    def forget(self, *keys: K) -> None:
        if self._entries is not None:
            with self._lock:
                for key in keys:
                    self._entries.pop(key, None)

    def clear(self) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries.clear()


def new_token() -> bytes:
    """A random token that marks a version in Redis: never counted, so a Redis that lost its
    data never hands out an earlier one again."""
    return secrets.token_hex(8).encode()


def held_token(redis: Redis, key: str) -> bytes | None:
    """The token Redis holds at `key`, drawn now (SET NX) when it holds none."""
    found = redis.get(key)
    if found is None:
        drawn = new_token()
        found = drawn if redis.set(key, drawn, nx=True) else redis.get(key)
    return found


class WarnNowAndThen:
    """A warning a process logs at most once every `seconds`: while Redis is down, every request
    would otherwise log its own line, and an operator could not see anything else."""

    def __init__(self, logger: logging.Logger, seconds: float = 60.0) -> None:
        self._logger, self._seconds = logger, seconds
        self._said_at: float | None = None

    def warning(self, message: str, *args) -> None:
        now = time.monotonic()
        if self._said_at is None or now - self._said_at >= self._seconds:
            self._said_at = now
            self._logger.warning(message + f" (said at most once every {self._seconds:g} s)", *args)


_MISSING = object()
# model class → [(the app extension holding a ProcessCache, the key of an instance, or None to clear it)]
_WATCHED: dict[type, list[tuple[str, Callable[[object], Hashable] | None]]] = {}
_CHANGED = "storefleet.changed_cache_keys"
_EVERYTHING = object()


def forget_on_commit(model: type, extension: str, key: Callable[[object], Hashable] | None) -> None:
    """When a control session commits a change to an instance of `model` (new, changed or
    deleted), the ProcessCache in app.extensions[extension] forgets key(instance); with key None
    it forgets everything (a change that touches every entry, such as a plan's)."""
    _WATCHED.setdefault(model, []).append((extension, key))


@event.listens_for(ControlSession, "after_flush")
def _note_changes(session, _context) -> None:
    changed = session.info.setdefault(_CHANGED, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        for extension, key in _WATCHED.get(type(instance), ()):
            changed.add((extension, _EVERYTHING if key is None else key(instance)))


@event.listens_for(ControlSession, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    """An UPDATE or DELETE statement (update(ApiClient)…) may change any row of its model: its
    caches are cleared on commit."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        changed = state.session.info.setdefault(_CHANGED, set())
        for extension, _key in _WATCHED.get(state.bind_mapper.class_, ()):
            changed.add((extension, _EVERYTHING))


def _forget(app: Flask, changed) -> None:
    for extension, key in changed:
        cache = app.extensions.get(extension)
        if cache is None:
            continue
        if key is _EVERYTHING:
            cache.clear()
        else:
            cache.forget(key)


@event.listens_for(ControlSession, "after_commit")
def _forget_changes(session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if not changed or not has_app_context():
        return
    _forget(current_app, changed)
    feed = current_app.extensions.get(ChangeFeed.EXTENSION)
    if feed is not None:
        feed.announce(changed)


@event.listens_for(ControlSession, "after_rollback")
def _forget_nothing(session) -> None:
    session.info.pop(_CHANGED, None)


class ChangeFeed:
    """The Redis stream on which commits announce the kept rows they changed, and each process's
    place in it (see the module's doc). `keep(extension)` makes a ProcessCache fed by it."""

    EXTENSION = "storefleet.change_feed"
    STREAM = "storefleet:control-changes"
    EPOCH = "storefleet:control-changes:epoch"   # drawn anew when Redis has lost the stream
    READ_AT_MOST = 1000
    KEEP_AT_LEAST = 10_000   # announcements the stream holds (XADD … MAXLEN ~)

    def __init__(self, app: Flask, redis: Callable[[], Redis], check_seconds: float, max_age_seconds: float,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self._app, self._redis, self._timer = app, redis, timer
        self.check_seconds, self.max_age_seconds = check_seconds, max_age_seconds
        self._kept: list[str] = []
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._position: tuple[bytes, bytes] | None = None   # (epoch, id of the last announcement read)
        self._unreachable = WarnNowAndThen(log)

    def keep(self, extension: str) -> ProcessCache:
        """A ProcessCache for app.extensions[extension], fed by this feed (no cache at all when
        STORE_CACHE_SECONDS is 0)."""
        self._kept.append(extension)
        if self.check_seconds <= 0:
            return ProcessCache(0)
        return ProcessCache(self.max_age_seconds, timer=self._timer, before_read=self.catch_up)

    def announce(self, changed) -> None:
        """Append each (extension, key) committed to the stream ("*": every key)."""
        try:
            with self._redis().pipeline(transaction=False) as batch:
                for extension, key in changed:
                    batch.xadd(self.STREAM, {"extension": extension, "key": "*" if key is _EVERYTHING else str(key)},
                               maxlen=self.KEEP_AT_LEAST, approximate=True)
                batch.execute()
        except RedisError as exc:   # the commit stands; others see it within STORE_CACHE_MAX_SECONDS
            self._unreachable.warning("A change to kept rows was committed but could not be announced: %s", exc)

    def catch_up(self) -> None:
        """Forget what other processes announced since this one last looked, at most once every
        check_seconds."""
        now = self._timer()
        if self._checked_at is not None and now - self._checked_at < self.check_seconds:
            return
        with self._lock:
            if self._checked_at is not None and now - self._checked_at < self.check_seconds:
                return
            try:
                self._read()
            except RedisError as exc:
                self._unreachable.warning("Kept control rows forgotten: their change feed could not be read: %s", exc)
                self._position = None
                self._forget_everything()
            self._checked_at = now

    def _read(self) -> None:
        redis = self._redis()
        if self._position is None:
            # The first look, or announcements may have been missed: start from the stream's end,
            # knowing nothing.
            epoch = held_token(redis, self.EPOCH)
            newest = redis.xrevrange(self.STREAM, count=1)
            self._position = (epoch, newest[0][0] if newest else b"0-0")
            self._forget_everything()
            return
        epoch, last = self._position
        with redis.pipeline(transaction=False) as batch:
            batch.xread({self.STREAM: last}, count=self.READ_AT_MOST)
            batch.xrange(self.STREAM, count=1)
            batch.get(self.EPOCH)
            found, oldest, now_epoch = batch.execute()
        entries = found[0][1] if found else []
        # The announcement last read is still held unless the stream was trimmed past it.
        trimmed = bool(oldest) and last != b"0-0" and _stream_id(oldest[0][0]) > _stream_id(last)
        if now_epoch != epoch or len(entries) >= self.READ_AT_MOST or trimmed:
            self._position = None   # may have missed some: know nothing, and start again
            self._forget_everything()
            return
        changed = {(fields[b"extension"].decode(), _EVERYTHING if fields[b"key"] == b"*" else fields[b"key"].decode())
                   for _id, fields in entries}
        _forget(self._app, changed)
        if entries:
            self._position = (epoch, entries[-1][0])


    def _forget_everything(self) -> None:
        for extension in self._kept:
            cache = self._app.extensions.get(extension)
            if cache is not None:
                cache.clear()


def _stream_id(value: bytes) -> tuple[int, int]:
    milliseconds, sequence = value.split(b"-")
    return int(milliseconds), int(sequence)


def init_change_feed(app: Flask, redis: Callable[[], Redis]) -> ChangeFeed:
    """The app's change feed: checked every STORE_CACHE_SECONDS, entries kept at most
    STORE_CACHE_MAX_SECONDS."""
    feed = app.extensions[ChangeFeed.EXTENSION] = ChangeFeed(
        app, redis, app.config["STORE_CACHE_SECONDS"], app.config["STORE_CACHE_MAX_SECONDS"])
    return feed


def change_feed(app: Flask) -> ChangeFeed:
    return app.extensions[ChangeFeed.EXTENSION]
