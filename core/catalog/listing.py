"""Reading the catalog, each verb on a session of one tenant's database.

Shoppers only ever see active products; listing, counting and paging happen in SQL, so a page
costs one statement whatever its size (two when its count is not yet known: list_products). The
listing reads plain rows (no ORM objects) and its SQL is shaped for SQLite's planner, which has
no statistics on a tenant database.
`final_price` is stored (and indexed) so that price filters run in the index; the database
generates it from price and discount on every write (core.catalog.models).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from cachetools import LRUCache
from sqlalchemy import JSON, bindparam, exists, false, func, select, true, type_coerce
from sqlalchemy.orm import Session

import core.sqlite_hints  # noqa: F401  (renders the INDEXED BY hints below)
from core.caching import ProcessCache
from core.catalog.models import Category, Product, catalog_revision, product_categories
from core.catalog.rules import uuid_or_none
from core.errors import NotFound, ValidationFailed

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_SEARCH_LENGTH = 200


def _check_listing(page: int, page_size: int, search: str, min_price, max_price) -> None:
    errors: dict[str, list[str]] = {}
    if len(search) > MAX_SEARCH_LENGTH:
        errors["search"] = [f"search must be at most {MAX_SEARCH_LENGTH} characters."]
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        errors["page"] = ["page must be an integer of at least 1."]
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        errors["pageSize"] = [f"pageSize must be an integer from 1 to {MAX_PAGE_SIZE}."]
    for field, value in (("minPrice", min_price), ("maxPrice", max_price)):
        if value is not None and not (isinstance(value, Decimal) and value.is_finite() and value >= 0):
            errors[field] = [f"{field} must be a decimal number of at least 0."]
    if errors:
        raise ValidationFailed("One or more validation errors occurred.", errors=errors)


@dataclass(frozen=True, slots=True)
class CategoryRef:
    id: str
    name: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class ListedProduct:
    """A product as a catalog page shows it: plain values read with Core, not an ORM object
    (a page is read-only, and skipping the identity map halves its cost)."""

    id: str
    name: str
    description: str
    price: Decimal
    discount: Decimal
    final_price: Decimal
    stock: int
    is_active: bool
    images: list
    dynamic_attributes: dict
    low_stock_threshold: int
    categories: tuple[CategoryRef, ...]


@dataclass(frozen=True, slots=True)
class CatalogPage:
    """A page of the catalog: its products, how many match in all, and (when asked for) every
    active category of the store, by name."""

    items: list[ListedProduct]
    total: int
    active_categories: list[CategoryRef] | None = None


LISTED_COLUMNS = (Product.id, Product.name, Product.description, Product.price, Product.discount,
                  Product.final_price, Product.stock, Product.is_active, Product.images, Product.dynamic_attributes,
                  Product.low_stock_threshold)
# Walk the (is_active, name) index in order and stop after the page (see core.sqlite_hints).
BY_NAME = "INDEXED BY ix_products_active_name"
# Read with every page, in the same statement: the revision its count is kept by.
_EPOCH = select(catalog_revision.c.epoch).where(catalog_revision.c.id == 1).scalar_subquery().label("epoch")
_REVISION = select(catalog_revision.c.revision).where(catalog_revision.c.id == 1).scalar_subquery().label("revision")
# Counts by (epoch, revision, filters), per process. The epoch is drawn at random for each
# database, and the revision changes with every change that may change a count (migration 0006),
# so a count kept is exact, never stale, and never another database's.
_COUNTS: ProcessCache[tuple, int] = ProcessCache(0, entries=LRUCache(4096))


def _categories_column(dialect: str):
    """Each listed product's categories as one JSON array of {id, name, is_active}, read in the
    page's own statement (a correlated subquery) instead of a second round trip."""
    link = product_categories
    aggregate = (select(_category_objects(dialect))
                 .select_from(link.join(Category, Category.id == link.c.category_id))
                 .where(link.c.product_id == Product.id))
    return type_coerce(aggregate.scalar_subquery(), JSON).label("categories")


def _active_categories_column(dialect: str):
    """Every active category of the store as one JSON array, read with the page (the filter's
    choices of the shop's catalog page) instead of a second round trip."""
    aggregate = select(_category_objects(dialect)).where(Category.is_active == true())
    return type_coerce(aggregate.scalar_subquery(), JSON).label("active_categories")


def _category_objects(dialect: str):
    """The JSON array of the categories a query selects, as {id, name, is_active} objects (each
    database names its JSON functions its own way)."""
    json_object = func.json_build_object if dialect == "postgresql" else func.json_object
    json_array = func.json_agg if dialect == "postgresql" else func.json_group_array
    return json_array(json_object("id", Category.id, "name", Category.name, "is_active", Category.is_active))


def _category_refs(found: list | None) -> tuple[CategoryRef, ...]:
    refs = (CategoryRef(c["id"], c["name"], bool(c["is_active"])) for c in found or ())
    return tuple(sorted(refs, key=lambda ref: (ref.name, ref.id)))


def _name_contains(session: Session, term: str):
    """The name contains `term`, whatever its case; '%' and '_' in it are plain characters
    (SQLAlchemy's autoescape)."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE already ignores ASCII case, exactly as lower() does (both ASCII-only), and
        # a bare column lets the LIKE run on the name index's entries, before any row is read.
        return Product.name.contains(term, autoescape=True)
    return Product.name.icontains(term, autoescape=True)


# The filters' values are bound at execution (a statement of one shape is built once per process,
# and SQLAlchemy keeps its compiled form); a search's LIKE pattern is escaped by SQLAlchemy at
# construction, so a statement with a search is built for each request.
_MIN_PRICE = Product.final_price >= bindparam("min_price", type_=Product.final_price.type)
_MAX_PRICE = Product.final_price <= bindparam("max_price", type_=Product.final_price.type)
_CATEGORY = bindparam("category_id", type_=product_categories.c.category_id.type)
_IN_CATEGORY = exists().where(product_categories.c.product_id == Product.id,
                              product_categories.c.category_id == _CATEGORY)


def _conditions(search_condition, min_price: bool, max_price: bool) -> list:
    conditions = [Product.is_active == true()]
    if search_condition is not None:
        conditions.append(search_condition)
    if min_price:
        conditions.append(_MIN_PRICE)
    if max_price:
        conditions.append(_MAX_PRICE)
    return conditions


def _page(dialect: str, conditions: list, in_category: bool, with_active_categories: bool):
    """The page in name order along the name index, stopping once it is full (without the hint
    SQLite would take the price index and sort every product in the price range first), with
    its products' categories, the catalog's revision and, when asked for, the active categories."""
    extra = [_active_categories_column(dialect)] if with_active_categories else []
    return (select(*LISTED_COLUMNS, _categories_column(dialect), _EPOCH, _REVISION, *extra)
            .where(*conditions, *([_IN_CATEGORY] if in_category else []))
            .order_by(Product.name, Product.id)
            .limit(bindparam("limit")).offset(bindparam("offset")).with_hint(Product, BY_NAME, "sqlite"))


@functools.cache
def _unsearched_page(dialect: str, in_category: bool, min_price: bool, max_price: bool, with_active_categories: bool):
    return _page(dialect, _conditions(None, min_price, max_price), in_category, with_active_categories)


def list_products(session: Session, *, page: int, page_size: int, search: str | None = None,
                  category_id: str | None = None, min_price: Decimal | None = None,
                  max_price: Decimal | None = None, with_active_categories: bool = False) -> CatalogPage:
    """One page of active products and the number of all that match, ordered by name then id
    (a stable order, so pages never overlap). Only active products are ever listed; search is a
    case-insensitive substring of the name; prices filter on final_price, both ends inclusive.

    One statement reads the page (LIMIT/OFFSET), each product's categories, the catalog's
    revision and, with_active_categories, every active category (read apart only when the page
    is empty). The count comes from the page itself when the page is not full, else from the
    counts this process keeps by revision, and is run (a second statement) only on a miss."""
    search = (search or "").strip()
    _check_listing(page, page_size, search, min_price, max_price)
    category_key = None
    if category_id is not None:
        category_key = uuid_or_none(category_id)
        if category_key is None:
            raise ValidationFailed.field("categoryId", "categoryId must be a UUID.")
    dialect, in_category = session.get_bind().dialect.name, category_key is not None
    has_min, has_max = min_price is not None, max_price is not None
    params = {"limit": page_size, "offset": (page - 1) * page_size, "min_price": min_price,
              "max_price": max_price, "category_id": category_key}
    if search:
        conditions = _conditions(_name_contains(session, search), has_min, has_max)
        statement = _page(dialect, conditions, in_category, with_active_categories)
    else:
        conditions = _conditions(None, has_min, has_max)
        statement = _unsearched_page(dialect, in_category, has_min, has_max, with_active_categories)
    rows = session.execute(statement, params).all()

    def count(_key=None) -> int:
        return _count_matches(session, conditions, params, in_category=in_category, by_name=bool(search),
                              filtered=bool(search) or has_min or has_max)

    if 0 < len(rows) < page_size or (not rows and page == 1):
        total = (page - 1) * page_size + len(rows)   # the last page: the count is in hand
    elif rows:
        total = _COUNTS.get((rows[0].epoch, rows[0].revision, search, category_key, min_price, max_price), count)
    else:
        total = count()   # a page past the end
    items = [ListedProduct(*row[:len(LISTED_COLUMNS)], categories=_category_refs(row.categories)) for row in rows]
    categories = None
    if with_active_categories:
        categories = list(_category_refs(rows[0].active_categories)) if rows else active_categories(session)
    return CatalogPage(items, total, categories)


def _count_matches(session: Session, conditions: list, params: dict, *, in_category: bool, by_name: bool,
                   filtered: bool) -> int:
    """COUNT of the active products that match, shaped so that it reads no more than it must,
    even under SQLite's planner (which has no statistics on a tenant database)."""
    if not in_category:
        count = select(func.count()).select_from(Product).where(*conditions)
        if by_name:
            # The LIKE runs on the name index's entries; only matching names fetch their row.
            count = count.with_hint(Product, BY_NAME, "sqlite")
        return session.scalar(count, params) or 0
    of_category = product_categories.c.category_id == _CATEGORY
    links = select(func.count()).select_from(product_categories).where(of_category)
    if not filtered:
        # The category's links minus its inactive products: both read an index, neither every
        # active product (the few inactive ones are the only rows probed).
        inactive = (select(func.count()).select_from(Product)
                    .join(product_categories, (product_categories.c.product_id == Product.id) & of_category)
                    .where(Product.is_active == false()))
        return session.scalar(select(links.scalar_subquery() - inactive.scalar_subquery()), params) or 0
    # From the category's side: one probe of the product per link.
    return session.scalar(links.where(exists().where(Product.id == product_categories.c.product_id, *conditions)),
                          params) or 0


def total_pages(total_count: int, page_size: int) -> int:
    return -(-total_count // page_size)


def get_active_product(session: Session, product_id: str) -> Product:
    """An active product by its UUID; NotFound (404) when it is unknown, inactive, or the id
    is not a UUID at all (a shopper cannot tell an inactive product from a missing one)."""
    key = uuid_or_none(product_id)
    product = None
    if key is not None:
        product = session.scalar(select(Product).where(Product.id == key, Product.is_active == true()))
    if product is None:
        raise NotFound(f"Product '{product_id}' not found.")
    return product


def shopper_categories(product) -> list:
    """The categories a shopper sees on a product (a Product or a ListedProduct): its active
    ones, by name, as already loaded."""
    return [category for category in product.categories if category.is_active]


def active_categories(session: Session) -> list[CategoryRef]:
    """Every active category, by name: plain (id, name) rows for a filter's choices, in one
    query that reads only the categories table (list_categories also counts their products)."""
    query = (select(Category.id, Category.name, Category.is_active).where(Category.is_active == true())
             .order_by(Category.name, Category.id))
    return [CategoryRef(*row) for row in session.execute(query)]


def list_categories(session: Session) -> list[tuple[Category, int]]:
    """Every active category with the number of ACTIVE products in it, by name, in one grouped
    statement (a category with no active product counts 0). Counted as all of the category's
    products minus its inactive ones: the first reads only the category index, the second only
    the few inactive products, so the cost does not grow with the number of active products."""
    linked = (select(product_categories.c.category_id, func.count().label("n"))
              .group_by(product_categories.c.category_id).subquery())
    inactive = (select(product_categories.c.category_id, func.count().label("n"))
                .join(Product, Product.id == product_categories.c.product_id)
                .where(Product.is_active == false())
                .group_by(product_categories.c.category_id).subquery())
    counts = (
        select(Category, func.coalesce(linked.c.n, 0) - func.coalesce(inactive.c.n, 0))
        .outerjoin(linked, linked.c.category_id == Category.id)
        .outerjoin(inactive, inactive.c.category_id == Category.id)
        .where(Category.is_active == true())
        .order_by(Category.name, Category.id)
    )
    return [(category, count) for category, count in session.execute(counts)]


def list_admin_products(session: Session, *, page: int, page_size: int,
                        search: str | None = None) -> tuple[list[Product], int]:
    """One page of every product of the store, active or not, by name then id, and the number
    of all that match; `search` is a case-insensitive substring of the name or the SKU. Two
    queries (COUNT, the page) plus the page's categories."""
    search = (search or "").strip()
    _check_listing(page, page_size, search, None, None)
    conditions = []
    if search:
        # icontains lowers both sides with the database's own lower(), so they agree on what case is.
        conditions.append(Product.name.icontains(search, autoescape=True)
                          | Product.sku.icontains(search, autoescape=True))
    total = session.scalar(select(func.count()).select_from(Product).where(*conditions)) or 0
    products = session.scalars(select(Product).where(*conditions).order_by(Product.name, Product.id)
                               .limit(page_size).offset((page - 1) * page_size)).all()
    return list(products), total


def list_all_categories(session: Session) -> list[Category]:
    """Every category of the store, active or not, by name (what a product may be filed under)."""
    return list(session.scalars(select(Category).order_by(Category.name, Category.id)))
