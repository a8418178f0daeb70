"""Server-side latency of GET /api/catalog/products on a store of 10,000 products (SQLite).

Builds a throw-away platform in a temporary DATA_DIR (control database migrated, one Ready
tenant provisioned the normal way), bulk-inserts the products in SQL, then times each request
through the Flask test client with time.perf_counter and prints the median and p95 per scenario.

    python bench/catalog_list.py [--products 10000] [--requests 300] [--keep]

"matches" is the totalCount of a scenario's first query (the number of categories for the
categories endpoint).

Target: median < 10 ms, p95 < 25 ms. The figures depend on the machine; tests never assert them.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, insert, select  # noqa: E402

from storefleet.app import create_app  # noqa: E402
from core.config import Config  # noqa: E402

SLUG = "bench"
WARMUP = 20
ROUNDS = 3
ADJECTIVES = ["Compact", "Wireless", "Portable", "Premium", "Classic", "Ergonomic", "Smart", "Rugged", "Slim",
              "Vintage", "Pro", "Ultra", "Eco", "Deluxe", "Foldable", "Magnetic", "Waterproof", "Heated"]
MATERIALS = ["Aluminium", "Bamboo", "Leather", "Steel", "Cotton", "Ceramic", "Carbon", "Oak", "Glass", "Wool"]
NOUNS = ["Headphones", "Speaker", "Charger", "Laptop Stand", "Webcam", "Keyboard", "Mouse", "Desk Lamp",
         "Backpack", "Water Bottle", "Coffee Mug", "Notebook", "Monitor Arm", "USB Hub", "Phone Case",
         "Cable Organizer", "Chair Cushion", "Router", "Power Bank", "Tripod", "Microphone", "Earbuds"]
CATEGORIES = ["Home Office", "Outdoor", "Kitchen", "Gaming", "Travel", "Photography", "Furniture", "Lighting"]
SEARCHES = ["head", "USB", "lamp", "steel", "pro ", "bottle", "WIRELESS", "mug"]
PRICE_RANGES = [("10", "50"), ("25", "100"), ("50", "250"), ("0", "30"), ("100", "500")]


@contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    """A real redis-server for the bench's app (commits announce catalog changes there), as the
    URL to give it; stopped afterwards."""
    from storefleet.cli import start_embedded_redis, stop_embedded_redis

    server = start_embedded_redis(data_dir / "redis" / "redis.sock")
    try:
        yield f"unix://{server.socket_file}"
    finally:
        stop_embedded_redis(server, save=False)


def build_platform(data_dir: Path, products: int, redis_url: str) -> object:
    """The app with a store of `products` products. These benches time the database's path:
    no catalog page is kept (bench/compare.py measures both)."""
    config = Config(data_dir)
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{data_dir / 'control.db'}"
    config.TENANT_DATABASE_URL = f"sqlite:///{data_dir / 'tenants' / '{db_name}.db'}"
    config.REDIS_URL = redis_url
    config.CATALOG_CACHE_ENTRIES = 0
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        from core.tenancy.provisioning import create_tenant_directly
        from core.tenancy.engines import engines

        upgrade(directory=str(app.config["CONTROL_MIGRATIONS"]))
        tenant = create_tenant_directly(SLUG, "Bench Store", "ENTERPRISE")
        engine = engines().engine(tenant.db_url)
    insert_catalog(engine, products)
    return app


def insert_catalog(engine, count: int) -> None:
    """Replace the demo catalog with `count` products in bulk INSERTs (~5% inactive, 1–2 categories);
    the database generates their final prices."""
    from core.catalog.models import Category, Product, product_categories

    rng = random.Random(42)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(delete(product_categories))
        conn.execute(delete(Product.__table__))
        existing = list(conn.scalars(select(Category.id)))
        new = [{"id": str(uuid4()), "name": name, "description": f"Everything for {name.lower()}",
                "is_active": True, "created_at": now} for name in CATEGORIES]
        conn.execute(insert(Category.__table__), new)
        category_ids = existing + [c["id"] for c in new]

        rows, links = [], []
        for i in range(count):
            price = Decimal(rng.choice([2, 5, 9, 14, 19, 24, 29, 39, 49, 59, 79, 99, 149, 199, 299, 499, 999])
                            ) + Decimal(rng.choice(["0.99", "0.49", "0.00", "0.95"]))
            discount = Decimal(rng.choice(["0.05", "0.10", "0.15", "0.20", "0.25", "0.40"])) if rng.random() < 0.3 \
                else Decimal("0")
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)} {rng.randint(100, 999)}"
            product_id = str(uuid4())
            rows.append({
                "id": product_id, "sku": f"SKU{i:06d}", "name": name, "description": f"The {name}, built to last.",
                "price": price, "discount": discount,
                "stock": rng.randint(0, 500), "low_stock_threshold": 10, "is_active": rng.random() >= 0.05,
                "images": [f"/static/img/products/p{i % 50}.svg"],
                "dynamic_attributes": {"brand": rng.choice(["Acme", "Northwind", "Globex", "Initech"]),
                                       "color": rng.choice(["Black", "White", "Blue", "Red"])},
                "customization_options": {}, "created_at": now, "updated_at": now,
            })
            for category_id in rng.sample(category_ids, rng.choice([1, 1, 2])):
                links.append({"product_id": product_id, "category_id": category_id})
        conn.execute(insert(Product.__table__), rows)
        conn.execute(insert(product_categories), links)


@contextmanager
def bench_store(description: str):
    """The command line every catalog bench takes (--products, --requests, --keep) and its
    store: yields (args, app) with a platform of args.products products built in a temporary
    DATA_DIR, removed afterwards unless --keep."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="storefleet-bench-"))
    try:
        with embedded_redis(data_dir) as redis_url:
            started = time.perf_counter()
            app = build_platform(data_dir, args.products, redis_url)
            print(f"built a store of {args.products} products in {time.perf_counter() - started:.1f} s ({data_dir})")
            yield args, app
            app.extensions["storefleet.tenant_engines"].dispose_all()
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def run_rounds(runs: dict[str, Callable[[int, int], list[float]]], requests: int) -> dict[str, list[float]]:
    """Time every scenario: `runs[name](count, offset)` makes `count` requests from the
    offset-th query on and returns their milliseconds. A warm-up first (imports, statement
    caches, the OS file cache), then ROUNDS rounds that interleave the scenarios, so a noisy
    moment on the machine spreads over all of them."""
    for run in runs.values():
        run(WARMUP, 0)
    timings: dict[str, list[float]] = {name: [] for name in runs}
    per_round = -(-requests // ROUNDS)
    for round_ in range(ROUNDS):
        for name, run in runs.items():
            timings[name] += run(min(per_round, requests - len(timings[name])), round_ * per_round)
    return timings


def figures(values: list[float]) -> str:
    """Median, p95 and maximum, in the columns of the benches' tables."""
    p95 = statistics.quantiles(values, n=100)[94]
    return f"{statistics.median(values):>10.2f}{p95:>10.2f}{max(values):>10.2f}"


PRODUCTS = "/api/catalog/products"


def scenarios(category_id: str) -> dict[str, tuple[str, Callable[[int], dict]]]:
    """name → (path, query of the i-th request); filters rotate over several values."""
    def prices(i: int) -> dict:
        return dict(zip(("minPrice", "maxPrice"), PRICE_RANGES[i % len(PRICE_RANGES)]))

    def search(i: int) -> dict:
        return {"search": SEARCHES[i % len(SEARCHES)]}

    return {
        "plain (page 1)": (PRODUCTS, lambda i: {}),
        "plain (pages 1-50)": (PRODUCTS, lambda i: {"page": i % 50 + 1}),
        "search": (PRODUCTS, search),
        "price filter": (PRODUCTS, prices),
        "search + price filter": (PRODUCTS, lambda i: {**search(i), **prices(i)}),
        "category (pages 1-5)": (PRODUCTS, lambda i: {"categoryId": category_id, "page": i % 5 + 1}),
        "categories endpoint": ("/api/catalog/categories", lambda i: {}),
    }


def measure(client, path: str, query_for, requests: int, offset: int = 0) -> list[float]:
    """Milliseconds per request, timed around each call of the test client."""
    headers = {"X-Tenant-Slug": SLUG}
    timings = []
    for i in range(offset, offset + requests):
        query = query_for(i)
        started = time.perf_counter()
        response = client.get(path, headers=headers, query_string=query)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} {query} answered {response.status_code}: {response.get_data(as_text=True)}")
    return timings


def main() -> None:
    with bench_store(__doc__) as (args, app):
        client = app.test_client()
        category = client.get("/api/catalog/categories", headers={"X-Tenant-Slug": SLUG}).get_json()[0]
        plan = scenarios(category["id"])
        timings = run_rounds({name: lambda count, offset, path=path, query_for=query_for:
                              measure(client, path, query_for, count, offset)
                              for name, (path, query_for) in plan.items()}, args.requests)
        print(f"{args.requests} requests per scenario, server-side through the Flask test client "
              f"(Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs)\n")
        print(f"{'scenario':<24}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}{'matches':>10}")
        for name, (path, query_for) in plan.items():
            body = client.get(path, headers={"X-Tenant-Slug": SLUG}, query_string=query_for(0)).get_json()
            total = body["totalCount"] if isinstance(body, dict) else len(body)
            print(f"{name:<24}{figures(timings[name])}{total:>10}")


if __name__ == "__main__":
    main()
