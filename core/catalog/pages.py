"""Catalog pages kept per process, and exact however many processes serve a store.

A catalog page is read far more often than it changes, and over many stores reading it is the
expensive part: a connection belongs to one database, a process holds at most
TENANT_SERVER_CONNECTIONS of them (core.tenancy.engines), so a request for a store whose
connection is not held opens one (about 6 ms with the new backend's first query, where the page
itself takes 1).

Each store has a catalog version in Redis: a random token, replaced after every commit that
changes its products, categories or their links, in whichever process commits it (a web process,
a worker: core.tenancy.changes tells). A page is kept by (store, version, query) for at most
CATALOG_CACHE_SECONDS among the CATALOG_CACHE_ENTRIES most recently used; a request for a kept
page costs one Redis round trip and no database.

Why a kept page is never stale: the version is read before the page; a change committed after the
page was read replaces the version once committed, so the page kept under the old version is not
read again. Versions are random, not counted: a Redis that lost its data gets new tokens, never
an old number again. Without Redis, pages are read from the database each time. Not seen: a
change made outside the app's engines (psql, a migration); a kept page of it expires within
CATALOG_CACHE_SECONDS.
"""
from __future__ import annotations

import logging
from typing import Callable, TypeVar

from flask import Flask, current_app
from redis import Redis, RedisError
from sqlalchemy.orm import Session

from core.caching import ProcessCache, WarnNowAndThen, held_token, new_token
from core.catalog import listing
from core.queues import redis_client
from core.tenancy.changes import ChangeWatch, store_key
from core.tenancy.directory import Store
from core.tenancy.engines import engines_of

log = logging.getLogger(__name__)
V = TypeVar("V")

# What a catalog page shows is read from these tables only.
CATALOG_TABLES = ("products", "categories", "product_categories")
_VERSION = "storefleet:catalog-version:"


class CatalogPages:
    """The catalog pages of a process, kept by store, version and query (see the module's doc)."""

    EXTENSION = "storefleet.catalog_pages"   # where the app keeps its own

    def __init__(self, redis: Callable[[], Redis], entries: int, seconds: float) -> None:
        self.redis = redis
        self.keeps = entries > 0
        self._pages: ProcessCache[tuple, object] = ProcessCache(seconds if entries else 0, max(entries, 1))
        self._unreachable = WarnNowAndThen(log)

    def version(self, store: str) -> bytes | None:
        """The catalog version of the store database `store` (a store_key), drawn when Redis
        holds none; None when Redis cannot be reached."""
        try:
            return held_token(self.redis(), _VERSION + store)
        except RedisError as exc:
            self._unreachable.warning("Catalog pages read from the database: no catalog version in Redis: %s", exc)
            return None

    def changed(self, store: str) -> None:
        """A change to the catalog of `store` is committed: every process reads it afresh."""
        self.redis().set(_VERSION + store, new_token())

    def kept(self, store: Store, key: tuple, read: Callable[[], V],
             keep: Callable[[V], bool] = lambda _value: True) -> V:
        """read() as kept for `key` and this store's catalog version: for anything made only of
        the store's catalog and of what `key` names (a page of products, a page's HTML). What
        keep(value) refuses (an error page) is not kept."""
        if not self.keeps:
            return read()
        store_id = store_key(store.db_url)
        version = self.version(store_id)
        if version is None:
            return read()
        return self._pages.get((store_id, version, *key), lambda _key: read(), keep)

    def list_products(self, store: Store, session: Callable[[], Session], **query) -> listing.CatalogPage:
        """listing.list_products(session(), **query) as kept for this store and version; the
        session is opened only to read a page that is not kept."""
        return self.kept(store, ("products", *sorted(query.items())),
                         lambda: listing.list_products(session(), **query))


def init_catalog_pages(app: Flask) -> CatalogPages:
    """The app's catalog pages. Every commit to a store's catalog replaces its version, whether
    or not this process keeps pages itself (another may)."""
    pages = app.extensions[CatalogPages.EXTENSION] = CatalogPages(
        lambda: redis_client(app), app.config["CATALOG_CACHE_ENTRIES"], app.config["CATALOG_CACHE_SECONDS"])
    engines_of(app).watch(ChangeWatch(CATALOG_TABLES, pages.changed))
    return pages


def catalog_pages_of(app: Flask) -> CatalogPages:
    return app.extensions[CatalogPages.EXTENSION]


def catalog_pages() -> CatalogPages:
    """The current app's catalog pages."""
    return catalog_pages_of(current_app)
