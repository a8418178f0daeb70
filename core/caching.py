"""Per-process caches of control-database rows that every request reads (the stores, the API
clients' revocations), and how a commit makes its own process forget what it changed.

A web process or worker keeps what it read for a short, configured time (STORE_CACHE_SECONDS):
the process that commits a change forgets the changed rows at once; every other process sees the
change when its copy expires. Nothing is shared between processes, so nothing can go stale for
longer than that time.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Generic, Hashable, TypeVar

from cachetools import Cache, TLRUCache, TTLCache
from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as ControlSession
from sqlalchemy import event

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ProcessCache(Generic[K, V]):
    """A thread-safe cachetools cache: ProcessCache(ttl) keeps at most `size` entries for
    `ttl_seconds` each (TTLCache; a ttl of 0 keeps nothing), ProcessCache.until(expiry) keeps
    each until the time expiry(value) gives (TLRUCache, on time.time); the least recently used
    entry is dropped first."""

    def __init__(self, ttl_seconds: float, size: int = 10_000, timer: Callable[[], float] = time.monotonic,
                 *, entries: Cache | None = None) -> None:
        if entries is None and ttl_seconds > 0:
            entries = TTLCache(size, ttl_seconds, timer)
        self._entries = entries
        self._lock = threading.Lock()

    @classmethod
    def until(cls, expiry: Callable[[V], float], size: int = 10_000) -> ProcessCache[K, V]:
        """Entries kept until expiry(value), a POSIX timestamp (a token's `exp`)."""
        return cls(0, entries=TLRUCache(size, lambda _key, value, _now: expiry(value), time.time))

    def get(self, key: K, load: Callable[[K], V], keep: Callable[[V], bool] = lambda value: True) -> V:
        """The kept value of `key`, else load(key) — kept when keep(value) says so."""
        if self._entries is None:
            return load(key)
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


@event.listens_for(ControlSession, "after_commit")
def _forget_changes(session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if not changed or not has_app_context():
        return
    for extension, key in changed:
        cache = current_app.extensions.get(extension)
        if cache is None:
            continue
        if key is _EVERYTHING:
            cache.clear()
        else:
            cache.forget(key)


@event.listens_for(ControlSession, "after_rollback")
def _forget_nothing(session) -> None:
    session.info.pop(_CHANGED, None)
