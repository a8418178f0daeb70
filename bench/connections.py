"""Bounded connections to a database server of many stores: one pool per server (what
core.tenancy.engines does) against a bounded LRU of tiny pools (an Engine per store, each with one
connection, at most N engines), both holding at most N connections.

    .venv/bin/python bench/connections.py [--postgres URL] [--stores 200] [--bound 8] [--requests 2000]

Builds a platform on PostgreSQL (bench/compare.py's Platform: the store `bench` and --stores
small stores cloned from one), then, in this process, reads the catalog page of a store
(core.catalog.listing.list_products on a session bound to a connection taken from each
strategy) --requests times: from one store, and in rotation over every store. It prints per
request the median and mean milliseconds, and how many connections each strategy opened.
The figures depend on the machine; tests never assert them.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from compare import Platform  # noqa: E402  (same folder)
from storefleet.cli import start_embedded_redis, stop_embedded_redis  # noqa: E402


class TinyPools:
    """The alternative: an Engine per store database, each with a pool of one connection, in an
    LRU of at most `bound` engines (the least recently used one disposed to make room)."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.engines: OrderedDict[str, object] = OrderedDict()
        self.connects = 0

    def connect(self, db_url: str):
        engine = self.engines.get(db_url)
        if engine is None:
            while len(self.engines) >= self.bound:
                self.engines.popitem(last=False)[1].dispose()
            engine = self.engines[db_url] = create_engine(db_url, pool_size=1, max_overflow=0)
            event.listen(engine, "connect", self._counted)
        self.engines.move_to_end(db_url)
        return engine.connect()

    def _counted(self, *_args) -> None:
        self.connects += 1

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


class ServerPool:
    """What Storefleet does: core.tenancy.engines.TenantDatabases, one StorePool per server."""

    def __init__(self, bound: int) -> None:
        from core.tenancy.engines import TenantDatabases

        self.databases = TenantDatabases(server_connections=bound)
        self.connects = 0

    def connect(self, db_url: str):
        engine = self.databases.engine(db_url)
        if not event.contains(engine, "connect", self._counted):
            event.listen(engine, "connect", self._counted)
        return self.databases.connect(db_url)

    def _counted(self, *_args) -> None:
        self.connects += 1

    def dispose(self) -> None:
        self.databases.dispose_all()


def read_pages(strategy, urls: list[str], requests: int) -> list[float]:
    from core.catalog.listing import list_products

    timings = []
    for i in range(requests):
        started = time.perf_counter()
        with strategy.connect(urls[i % len(urls)]) as connection, Session(connection) as session:
            items, _total = list_products(session, page=1, page_size=20)
            session.commit()
        timings.append((time.perf_counter() - started) * 1000)
        assert items
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--bound", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sf-connections-"))
    redis = start_embedded_redis(work / "redis" / "redis.sock")
    platform = Platform(args.postgres, work, redis.socket_file)
    try:
        platform.build(100, args.stores)
        with platform.app.app_context():
            from core.tenancy.admin import get_tenant

            urls = [get_tenant(slug).db_url for slug in platform.rotation]
        platform.app.extensions["storefleet.tenant_engines"].dispose_all()
        rows = []
        # Alternate the strategies, so a noisy moment of the machine spreads over both.
        for scenario, chosen in (("one store", urls[:1]), (f"rotation over {len(urls)} stores", urls)):
            for strategy_class in (ServerPool, TinyPools):
                strategy = strategy_class(args.bound)
                try:
                    read_pages(strategy, chosen, min(200, args.requests))   # warm up
                    strategy.connects = 0
                    timings = read_pages(strategy, chosen, args.requests)
                finally:
                    strategy.dispose()
                rows.append((scenario, strategy_class.__name__, statistics.median(timings),
                             statistics.fmean(timings), strategy.connects))
        print(f"\n{args.requests} catalog pages per scenario, at most {args.bound} connections, PostgreSQL\n")
        print(f"{'scenario':<30}{'strategy':<12}{'median ms':>10}{'mean ms':>10}{'connects':>10}")
        for scenario, name, median, mean, connects in rows:
            print(f"{scenario:<30}{name:<12}{median:>10.2f}{mean:>10.2f}{connects:>10}")
    finally:
        platform.drop()
        stop_embedded_redis(redis, save=False)


if __name__ == "__main__":
    main()
