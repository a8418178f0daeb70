"""The raw-SQL ceiling of the catalog: Flask and psycopg, nothing else, serving the page of
`GET /api/catalog/products` that Storefleet serves, from the same store database.

What it does per request is the least a correct answer needs: one connection per worker process
(gunicorn sync workers serve one request at a time), opened once; the page with its categories in
one statement, the count in a second, both in one transaction; the same JSON document as
Storefleet's (camelCase, money with two places). No validation beyond page numbers, no
authentication, no tenant resolution, no rate limit: it is the ceiling, not a peer.

    CEILING_DSN=postgresql://postgres@127.0.0.1:5432/ecom_tenant_bench \
        gunicorn --workers 2 --chdir bench/peers ceiling:app
"""
from __future__ import annotations

import os
from decimal import Decimal

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)
_connection: psycopg.Connection | None = None

PAGE = """
SELECT p.id, p.name, p.description, p.price, p.discount, p.final_price, p.stock, p.is_active, p.images,
       p.dynamic_attributes,
       COALESCE((SELECT json_agg(json_build_object('id', c.id, 'name', c.name) ORDER BY c.name, c.id)
                   FROM product_categories pc JOIN categories c ON c.id = pc.category_id
                  WHERE pc.product_id = p.id AND c.is_active), '[]') AS categories
  FROM products p
 WHERE p.is_active
 ORDER BY p.name, p.id
 LIMIT %s OFFSET %s
"""
COUNT = "SELECT count(*) FROM products WHERE is_active"


def connection() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["CEILING_DSN"])
    return _connection


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


@app.get("/api/catalog/products")
def products():
    page = max(request.args.get("page", 1, type=int), 1)
    page_size = min(max(request.args.get("pageSize", 20, type=int), 1), 100)
    conn = connection()
    with conn.transaction(), conn.cursor() as cursor:
        rows = cursor.execute(PAGE, (page_size, (page - 1) * page_size)).fetchall()
        total = cursor.execute(COUNT).fetchone()[0]
    items = [{"id": r[0], "name": r[1], "description": r[2], "price": _money(r[3]), "discount": float(r[4]),
              "finalPrice": _money(r[5]), "stock": r[6], "isActive": r[7], "images": r[8] or [],
              "categories": r[10], "dynamicAttributes": r[9] or {}} for r in rows]
    return jsonify(items=items, totalCount=total, page=page, pageSize=page_size,
                   totalPages=-(-total // page_size))
