"""Server-side latency of the storefront's catalog page GET / on a store of 10,000 products.

Builds the throw-away platform of bench/catalog_list.py (its helpers: a migrated control
database, one Ready tenant, 10,000 products bulk-inserted in SQL), then times each request of
the shop page through the Flask test client on the store's host, and prints the median and p95
per scenario: the full page (template, CSRF token, categories, three catalog queries) and the
htmx partial that search-as-you-type swaps in.

    python bench/storefront_catalog.py [--products 10000] [--requests 300] [--keep]

Target: median < 30 ms. The figures depend on the machine; tests never assert them.
"""
from __future__ import annotations

import os
import platform
import sqlite3
import time
import uuid
from typing import Callable

from catalog_list import PRICE_RANGES, SEARCHES, SLUG, bench_store, figures, run_rounds  # same folder

PARTIAL = {"HX-Request": "true", "HX-Target": "results"}


def scenarios(category_id: str) -> dict[str, tuple[dict, Callable[[int], dict]]]:
    """name → (headers, query of the i-th request); filters rotate over several values."""
    def prices(i: int) -> dict:
        return dict(zip(("min_price", "max_price"), PRICE_RANGES[i % len(PRICE_RANGES)]))

    def search(i: int) -> dict:
        return {"search": SEARCHES[i % len(SEARCHES)]}

    return {
        "page 1": ({}, lambda i: {}),
        "pages 1-50": ({}, lambda i: {"page": i % 50 + 1}),
        "search": ({}, search),
        "price filter": ({}, prices),
        "search + price filter": ({}, lambda i: {**search(i), **prices(i)}),
        "category (pages 1-5)": ({}, lambda i: {"category": category_id, "page": i % 5 + 1}),
        "htmx partial: search": (PARTIAL, search),
    }


def measure(client, base_url: str, headers: dict, query_for, requests: int, offset: int = 0) -> list[float]:
    """Milliseconds per request, timed around each call of the test client."""
    timings = []
    for i in range(offset, offset + requests):
        query = query_for(i)
        started = time.perf_counter()
        response = client.get("/", base_url=base_url, headers=headers, query_string=query)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or b'class="result-count"' not in response.data:
            raise SystemExit(f"/ {query} answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return timings


def main() -> None:
    with bench_store(__doc__) as (args, app):
        base_url = f"http://{SLUG}.{app.config['PLATFORM_HOST']}"
        client = app.test_client()
        category = client.get("/api/catalog/categories", headers={"X-Tenant-Slug": SLUG}).get_json()[0]
        plan = scenarios(category["id"])
        # A shopper with a cart: the header's count costs one more query.
        shopper = app.test_client()
        session_id = str(uuid.uuid4())
        first = client.get("/api/catalog/products", headers={"X-Tenant-Slug": SLUG}).get_json()["items"][0]
        added = client.post("/api/cart/items", headers={"X-Tenant-Slug": SLUG, "X-Session-Id": session_id},
                            json={"productId": first["id"], "quantity": 1})
        assert added.status_code == 200, added.get_json()
        shopper.set_cookie("shop_session", session_id, domain=base_url.split("://")[1].split(":")[0])
        clients = {name: client for name in plan} | {"page 1, with a cart": shopper}
        plan["page 1, with a cart"] = ({}, lambda i: {})
        timings = run_rounds({name: lambda count, offset, name=name, headers=headers, query_for=query_for:
                              measure(clients[name], base_url, headers, query_for, count, offset)
                              for name, (headers, query_for) in plan.items()}, args.requests)
        print(f"{args.requests} requests per scenario of GET / on {base_url}, server-side through the Flask test "
              f"client (Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs)\n")
        print(f"{'scenario':<24}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}")
        for name, values in timings.items():
            print(f"{name:<24}{figures(values)}")


if __name__ == "__main__":
    main()
