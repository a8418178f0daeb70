"""Server-side latency of the cart and checkout API: add to cart, quote, place-order with an
Idempotency-Key, and its replay.

Builds a throw-away platform (temporary DATA_DIR; with --postgres its databases live on that
server and are dropped afterwards) with one Ready store of the demo catalog, its stock raised so
nothing runs out, then times each request through the Flask test client with
time.perf_counter. Each place-order checks out a cart of two lines filled beforehand, outside the
timing. Rounds interleave the scenarios (bench/catalog_list.py's run_rounds), so a noisy moment
spreads over all of them.

    .venv/bin/python bench/checkout.py [--requests 300] [--postgres URL]

The figures depend on the machine; tests never assert them.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from catalog_list import embedded_redis, figures, run_rounds  # noqa: E402  (same folder)

SLUG = "bench"
BODY = {"email": "customer@example.com", "phone": "+1234567890", "shippingAddress": "123 Main St, City",
        "paymentMethod": "CreditCard"}


def build(data_dir: Path, postgres: str | None) -> tuple[object, list[str]]:
    """The app on a migrated control database with the Ready store SLUG; the databases made."""
    os.environ["DATA_DIR"] = str(data_dir)
    made = []
    if postgres:
        server = make_url(postgres)
        control = f"sf_bench_{uuid.uuid4().hex[:8]}"
        with create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{control}"'))
        made.append(control)
        os.environ["DATABASE_URL"] = server.set(database=control).render_as_string(hide_password=False)
        os.environ["TENANT_DATABASE_URL"] = server.set(database="DBNAME").render_as_string(
            hide_password=False).replace("DBNAME", "{db_name}")
    try:
        from storefleet.app import create_app
    except ImportError:  # the code before storefleet/ existed, for side-by-side runs
        from core.app import create_app
    from flask_migrate import upgrade

    from core.extensions import db
    from core.tenancy.provisioning import create_tenant_directly

    app = create_app()
    with app.app_context():
        upgrade(directory=str(app.config["CONTROL_MIGRATIONS"]))
        tenant = create_tenant_directly(SLUG, "Bench Store", "ENTERPRISE")
        made.append(tenant.db_name)
        engine = create_engine(tenant.db_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE products SET stock = 100000000"))
        engine.dispose()
        db.session.commit()
    return app, made


def drop(postgres: str | None, names: list[str]) -> None:
    if not postgres:
        return
    admin = create_engine(make_url(postgres), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", help="server URL for the control and tenant databases")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="sf-bench-checkout-"))
    with embedded_redis(data_dir) as redis_url:
        os.environ["REDIS_URL"] = redis_url
        run(args, data_dir)


def run(args, data_dir: Path) -> None:
    app, made = build(data_dir, args.postgres)
    try:
        client = app.test_client()
        headers = {"X-Tenant-Slug": SLUG}
        products = [item["id"] for item in client.get("/api/catalog/products", headers=headers).get_json()["items"]]
        # Products without required customization options, so that any checkout path accepts them.
        lines = [products[1], products[3]]

        def post(path: str, session_id: str, body: dict, key: str | None = None, expect: int = 200):
            extra = {"X-Session-Id": session_id, **({"Idempotency-Key": key} if key else {})}
            started = time.perf_counter()
            response = client.post(path, headers={**headers, **extra}, json=body)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != expect:
                raise SystemExit(f"{path} answered {response.status_code}: {response.get_data(as_text=True)}")
            return elapsed, response

        def cart() -> str:
            session_id = str(uuid.uuid4())
            for product_id in lines:
                post("/api/cart/items", session_id, {"productId": product_id, "quantity": 1})
            return session_id

        placed: list[tuple[str, str]] = []

        def add_to_cart(count: int, _offset: int) -> list[float]:
            return [post("/api/cart/items", str(uuid.uuid4()), {"productId": lines[0], "quantity": 1})[0]
                    for _ in range(count)]

        def quote(count: int, _offset: int) -> list[float]:
            session_id = cart()
            return [post("/api/checkout/quote", session_id, {})[0] for _ in range(count)]

        def place_order(count: int, _offset: int) -> list[float]:
            timings = []
            for _ in range(count):
                session_id, key = cart(), str(uuid.uuid4())
                elapsed, _ = post("/api/checkout/place-order", session_id, {**BODY, "idempotencyKey": key}, key)
                timings.append(elapsed)
                placed.append((session_id, key))
            return timings

        def replay(count: int, _offset: int) -> list[float]:
            timings = []
            for session_id, key in (placed * count)[:count]:
                elapsed, response = post("/api/checkout/place-order", session_id, {**BODY, "idempotencyKey": key},
                                         key)
                assert response.headers.get("Idempotent-Replayed") == "true"
                timings.append(elapsed)
            return timings

        def placing(with_key: bool):
            """Placing an order in the domain, without HTTP: core.orders.checkout's idempotent
            place_checkout_order (the key's claim, the order, its stored answer) or the bare
            core.orders.placement.place_order, each in a unit of work that commits it."""
            from core.orders.checkout import CheckoutRequest, place_checkout_order
            from core.orders.placement import OrderContact, place_order as bare_place_order
            from core.tenancy.directory import get_store
            from core.unit_of_work import unit_of_work

            contact = OrderContact(email=BODY["email"], phone=BODY["phone"], shipping_address=BODY["shippingAddress"],
                                   payment_method=BODY["paymentMethod"])

            def run(count: int, _offset: int) -> list[float]:
                timings = []
                for _ in range(count):
                    session_id = cart()
                    with app.app_context():
                        started = time.perf_counter()
                        with unit_of_work() as unit:
                            tenant = get_store(SLUG)
                            session = unit.tenant_db(tenant, write=True)
                            if with_key:
                                request = CheckoutRequest(session_id, str(uuid.uuid4()), contact)
                                place_checkout_order(session, tenant, None, request, render=lambda order: (200, "{}"))
                            else:
                                bare_place_order(session, tenant, session_id, contact)
                        timings.append((time.perf_counter() - started) * 1000)
                return timings

            return run

        timings = run_rounds({"add to cart": add_to_cart, "quote (2 lines)": quote,
                              "place order (2 lines, key)": place_order, "place order replayed": replay,
                              "domain: place, key": placing(True), "domain: place, no key": placing(False)},
                             args.requests)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{args.requests} requests per scenario on {backend}, server-side through the Flask test client "
              f"(Python {platform.python_version()}, {os.cpu_count()} CPUs)\n")
        print(f"{'scenario':<28}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}")
        for name, values in timings.items():
            print(f"{name:<28}{figures(values)}")
        keyed, bare = (statistics.median(timings[name]) for name in ("domain: place, key", "domain: place, no key"))
        print(f"\nplacing with the key's claim and stored answer at {bare / keyed:.2f} of the rate without them")
    finally:
        app.extensions["storefleet.tenant_engines"].dispose_all()
        with app.app_context():
            from core.extensions import db

            db.session.remove()
            db.engine.dispose()
        drop(args.postgres, made)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
