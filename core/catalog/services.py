"""The catalog's verbs, each on a session of one tenant's database.

Shoppers only ever see active products; listing, counting and paging happen in SQL, so a page
costs the same three queries whatever its size. The listing reads plain rows (no ORM objects)
and its SQL is shaped for SQLite's planner, which has no statistics on a tenant database. `final_price` is stored (and
indexed) so that price filters run in the index; the database generates it from price and
discount on every write (see core.catalog.models), so no code here computes it.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable
from urllib.parse import urlsplit

from sqlalchemy import exists, false, func, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import core.sqlite_hints  # noqa: F401  (renders the INDEXED BY hints below)
from core.catalog.models import Category, Product, product_categories
from core.errors import Conflict, NotFound, ValidationFailed
from core.inventory.services import MAX_STOCK
from core.money import to_money
from core.tenancy.features import Limit, check_limit

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Numeric(12, 2): the largest amount a price column holds.
MAX_PRICE = Decimal("9999999999.99")
MAX_SEARCH_LENGTH = 200
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LIKE_ESCAPE = "\\"


def _uuid_or_none(value) -> str | None:
    """The canonical text of a UUID (as ids are stored), or None when `value` is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def sku_problem(sku) -> str | None:
    """Why `sku` cannot name a product, or None when it can. A SKU travels in URL paths, and
    products are looked up by SKU or UUID, so a SKU is a short token that is never a UUID."""
    if not isinstance(sku, str) or not SKU_PATTERN.match(sku):
        return ("SKU must be 1–64 characters: letters, digits, '.', '_' or '-', "
                "starting with a letter or digit.")
    if _uuid_or_none(sku) is not None:
        return "SKU must not be a UUID."
    return None


def _like_contains(term: str) -> str:
    escaped = term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


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
    if not errors and min_price is not None and max_price is not None and min_price > max_price:
        errors["minPrice"] = ["minPrice must not be greater than maxPrice."]
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


LISTED_COLUMNS = (Product.id, Product.name, Product.description, Product.price, Product.discount,
                  Product.final_price, Product.stock, Product.is_active, Product.images, Product.dynamic_attributes,
                  Product.low_stock_threshold)
# Walk the (is_active, name) index in order and stop after the page (see core.sqlite_hints).
BY_NAME = "INDEXED BY ix_products_active_name"


def _name_contains(session: Session, term: str):
    pattern = _like_contains(term)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE already ignores ASCII case, exactly as lower() does (both ASCII-only), and
        # a bare column lets the LIKE run on the name index's entries, before any row is read.
        return Product.name.like(pattern, escape=LIKE_ESCAPE)
    return Product.name.ilike(pattern, escape=LIKE_ESCAPE)


def list_products(session: Session, *, page: int, page_size: int, search: str | None = None,
                  category_id: str | None = None, min_price: Decimal | None = None,
                  max_price: Decimal | None = None) -> tuple[list[ListedProduct], int]:
    """One page of active products and the number of all that match, ordered by name then id
    (a stable order, so pages never overlap). Only active products are ever listed; search is a
    case-insensitive substring of the name; prices filter on final_price, both ends inclusive.
    Three queries whatever the page size: COUNT, the page (LIMIT/OFFSET), its categories."""
    search = (search or "").strip()
    _check_listing(page, page_size, search, min_price, max_price)
    category_key = None
    if category_id is not None:
        category_key = _uuid_or_none(category_id)
        if category_key is None:
            raise ValidationFailed.field("categoryId", "categoryId must be a UUID.")
    conditions = [Product.is_active == true()]
    if search:
        conditions.append(_name_contains(session, search))
    if min_price is not None:
        conditions.append(Product.final_price >= min_price)
    if max_price is not None:
        conditions.append(Product.final_price <= max_price)

    total = _count_matches(session, conditions, category_key=category_key, by_name=bool(search),
                           filtered=bool(search) or min_price is not None or max_price is not None)
    if total <= (page - 1) * page_size:
        return [], total
    if category_key is not None:
        conditions.append(exists().where(product_categories.c.product_id == Product.id,
                                         product_categories.c.category_id == category_key))
    # In name order along the name index, stopping once the page is full; without the hint
    # SQLite would take the price index and sort every product in the price range first.
    rows = session.execute(
        select(*LISTED_COLUMNS).where(*conditions).order_by(Product.name, Product.id)
        .limit(page_size).offset((page - 1) * page_size).with_hint(Product, BY_NAME, "sqlite")
    ).all()
    categories = _categories_of(session, [row.id for row in rows])
    return [ListedProduct(*row, categories=categories.get(row.id, ())) for row in rows], total


def _count_matches(session: Session, conditions: list, *, category_key: str | None, by_name: bool,
                   filtered: bool) -> int:
    """COUNT of the active products that match, shaped so that it reads no more than it must,
    even under SQLite's planner (which has no statistics on a tenant database)."""
    if category_key is None:
        count = select(func.count()).select_from(Product).where(*conditions)
        if by_name:
            # The LIKE runs on the name index's entries; only matching names fetch their row.
            count = count.with_hint(Product, BY_NAME, "sqlite")
        return session.scalar(count) or 0
    in_category = product_categories.c.category_id == category_key
    links = select(func.count()).select_from(product_categories).where(in_category)
    if not filtered:
        # The category's links minus its inactive products: both read an index, neither every
        # active product (the few inactive ones are the only rows probed).
        inactive = (select(func.count()).select_from(Product)
                    .join(product_categories, (product_categories.c.product_id == Product.id) & in_category)
                    .where(Product.is_active == false()))
        return session.scalar(select(links.scalar_subquery() - inactive.scalar_subquery())) or 0
    # From the category's side: one probe of the product per link.
    return session.scalar(links.where(exists().where(Product.id == product_categories.c.product_id, *conditions))) or 0


def _categories_of(session: Session, product_ids: list[str]) -> dict[str, tuple[CategoryRef, ...]]:
    """The categories of these products, by name, in one query."""
    found: dict[str, list[CategoryRef]] = {}
    query = (select(product_categories.c.product_id, Category.id, Category.name, Category.is_active)
             .join(Category, Category.id == product_categories.c.category_id)
             .where(product_categories.c.product_id.in_(product_ids))
             .order_by(Category.name, Category.id))
    for product_id, *category in session.execute(query):
        found.setdefault(product_id, []).append(CategoryRef(*category))
    return {product_id: tuple(refs) for product_id, refs in found.items()}


def total_pages(total_count: int, page_size: int) -> int:
    return -(-total_count // page_size)


def get_active_product(session: Session, product_id: str) -> Product:
    """An active product by its UUID; NotFound (404) when it is unknown, inactive, or the id
    is not a UUID at all (a shopper cannot tell an inactive product from a missing one)."""
    key = _uuid_or_none(product_id)
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


def _decimal(value, field: str, errors: dict) -> Decimal | None:
    if isinstance(value, (bool, float)):
        # A float has already lost the cents; the API hands over Decimals parsed from JSON.
        errors[field] = [f"{field} must be a decimal number, not a float."]
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors[field] = [f"{field} must be a decimal number."]
        return None
    if not number.is_finite():
        errors[field] = [f"{field} must be a decimal number."]
        return None
    return number


def _lock_product_creation(session: Session) -> None:
    """PostgreSQL: serialise product creation in this database for the rest of the transaction,
    so two concurrent creates cannot both pass the plan's maxProducts count. (SQLite writers
    are already serialised by BEGIN IMMEDIATE.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('storefleet.create_product'))"))


MAX_IMAGES = 20
MAX_IMAGE_URL_LENGTH = 2000
MAX_OPTIONS = 50
MAX_TEXT = 200


def _check_images(images, errors: dict) -> list[str]:
    """Images are web addresses: absolute http(s) URLs or paths on this site ('/static/…')."""
    images = [image.strip() if isinstance(image, str) else image for image in (images or [])]
    if len(images) > MAX_IMAGES:
        errors["images"] = [f"At most {MAX_IMAGES} images."]
        return images
    for image in images:
        if not isinstance(image, str) or not image or len(image) > MAX_IMAGE_URL_LENGTH:
            errors["images"] = [f"Each image must be a URL of at most {MAX_IMAGE_URL_LENGTH} characters."]
            break
        parts = urlsplit(image)
        absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
        on_this_site = not parts.scheme and not parts.netloc and image.startswith("/") and not image.startswith("//")
        if not (absolute or on_this_site) or any(c.isspace() for c in image):
            errors["images"] = [f"'{image[:80]}' is not an http(s) URL or a path starting with '/'."]
            break
    return images


def _check_attributes(attributes, errors: dict) -> dict:
    """Dynamic attributes: up to MAX_OPTIONS names, each a short text with a short text value."""
    attributes = dict(attributes or {})
    if len(attributes) > MAX_OPTIONS:
        errors["dynamicAttributes"] = [f"At most {MAX_OPTIONS} attributes."]
    for key, value in attributes.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_TEXT or not isinstance(value, str) \
                or len(value) > MAX_TEXT:
            errors["dynamicAttributes"] = [f"Each attribute needs a name and a text value of at most {MAX_TEXT} "
                                           "characters."]
            break
    return attributes


def _check_customization(options, errors: dict) -> dict:
    """Customization options as core.provisioning validates them: {name: {"required": bool,
    "values": [allowed texts]?}}; a name without values accepts any text."""
    options = dict(options or {})
    if len(options) > MAX_OPTIONS:
        errors["customizationOptions"] = [f"At most {MAX_OPTIONS} options."]
    for key, option in options.items():
        values = option.get("values") if isinstance(option, dict) else None
        valid = (isinstance(key, str) and key.strip() and len(key) <= MAX_TEXT and isinstance(option, dict)
                 and set(option) <= {"required", "values"} and isinstance(option.get("required", False), bool)
                 and (values is None or (isinstance(values, list) and all(
                     isinstance(v, str) and v.strip() and len(v) <= MAX_TEXT for v in values)
                     and len(set(values)) == len(values))))
        if not valid:
            errors["customizationOptions"] = [f"Option '{str(key)[:40]}' must have a name, 'required' true or "
                                              "false, and optionally a list of distinct allowed values."]
            break
    return options


@dataclass(frozen=True)
class _ProductFields:
    name: str
    price: Decimal
    discount: Decimal
    low_stock_threshold: int
    categories: list
    images: list
    dynamic_attributes: dict
    customization_options: dict


def _check_product_fields(session: Session, errors: dict, *, name, price, discount, low_stock_threshold,
                          category_ids, images, dynamic_attributes, customization_options) -> _ProductFields:
    """The rules every product keeps, on create and on update; problems go into `errors`
    (keyed by the API's field names), the cleaned values come back."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        errors["name"] = ["Name is required (at most 200 characters)."]
    amount = _decimal(price, "price", errors)
    if amount is not None and not 0 <= amount <= MAX_PRICE:
        errors["price"] = [f"price must be from 0 to {MAX_PRICE}."]
    ratio = _decimal(discount, "discount", errors)
    if ratio is not None and not 0 <= ratio <= 1:
        errors["discount"] = ["discount must be from 0 to 1."]
    if isinstance(low_stock_threshold, bool) or not isinstance(low_stock_threshold, int) \
            or not 0 <= low_stock_threshold <= MAX_STOCK:
        errors["lowStockThreshold"] = ["lowStockThreshold must be a non-negative integer."]
    category_ids = list(category_ids or ())
    categories = []
    if category_ids:
        keys = [_uuid_or_none(c) for c in category_ids]
        categories = list(session.scalars(select(Category).where(Category.id.in_([k for k in keys if k]))))
        if None in keys or len(categories) != len(set(keys)):
            errors["categoryIds"] = ["Every category id must name an existing category."]
    images = _check_images(images, errors)
    dynamic_attributes = _check_attributes(dynamic_attributes, errors)
    customization_options = _check_customization(customization_options, errors)
    return _ProductFields(name=name, price=to_money(amount) if "price" not in errors else amount,
                          discount=ratio.quantize(Decimal("0.0001")) if "discount" not in errors else ratio,
                          low_stock_threshold=low_stock_threshold, categories=categories, images=images,
                          dynamic_attributes=dynamic_attributes, customization_options=customization_options)


def create_product(session: Session, tenant, *, sku: str, name: str, price, quantity: int,
                   description: str = "", discount=0, images: Iterable[str] | None = None,
                   dynamic_attributes: dict | None = None, customization_options: dict | None = None,
                   category_ids: Iterable[str] = (), low_stock_threshold: int = 10,
                   is_active: bool = True) -> Product:
    """Add a product to the tenant's catalog. Invariants: the SKU is unique (Conflict 409), the
    plan's maxProducts is never exceeded (LimitExceeded 403), price is a Decimal ≥ 0 rounded to
    cents, discount is within 0..1, stock is a non-negative integer, images are URLs, and
    final_price (generated by the database, read back by the INSERT itself) is
    price × (1 − discount). Flushes; the caller commits."""
    errors: dict[str, list[str]] = {}
    sku = sku.strip() if isinstance(sku, str) else sku
    if (problem := sku_problem(sku)) is not None:
        errors["sku"] = [problem]
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_STOCK:
        errors["quantity"] = [f"quantity must be an integer from 0 to {MAX_STOCK}."]
    fields = _check_product_fields(session, errors, name=name, price=price, discount=discount,
                                   low_stock_threshold=low_stock_threshold, category_ids=category_ids,
                                   images=images, dynamic_attributes=dynamic_attributes,
                                   customization_options=customization_options)
    if errors:
        raise ValidationFailed("One or more validation errors occurred.", errors=errors)

    _lock_product_creation(session)
    if session.scalar(select(Product.id).where(Product.sku == sku)) is not None:
        raise Conflict(f"A product with SKU '{sku}' already exists.", sku=sku)
    existing = session.scalar(select(func.count()).select_from(Product)) or 0
    check_limit(tenant, Limit.MAX_PRODUCTS, existing + 1)

    product = Product(
        sku=sku, name=fields.name, description=description or "", price=fields.price, discount=fields.discount,
        stock=quantity,
        low_stock_threshold=fields.low_stock_threshold, is_active=bool(is_active), images=fields.images,
        dynamic_attributes=fields.dynamic_attributes, customization_options=fields.customization_options,
        categories=fields.categories,
    )
    session.add(product)
    try:
        session.flush()
    except IntegrityError as exc:
        # Another transaction took the SKU between our check and our insert.
        raise Conflict(f"A product with SKU '{sku}' already exists.", sku=sku) from exc
    return product


def update_product(session: Session, product: Product, *, name: str, price, description: str = "", discount=0,
                   images: Iterable[str] | None = None, dynamic_attributes: dict | None = None,
                   customization_options: dict | None = None, category_ids: Iterable[str] = (),
                   low_stock_threshold: int = 10, is_active: bool = True) -> Product:
    """Replace a product's details under create_product's rules (ValidationFailed names every bad
    field and changes nothing); the database recomputes final_price, which the UPDATE reads
    back. The SKU stays (orders and API callers name the product by it) and so does the stock,
    which only changes through core.inventory.services. Flushes; the caller commits."""
    errors: dict[str, list[str]] = {}
    fields = _check_product_fields(session, errors, name=name, price=price, discount=discount,
                                   low_stock_threshold=low_stock_threshold, category_ids=category_ids,
                                   images=images, dynamic_attributes=dynamic_attributes,
                                   customization_options=customization_options)
    if errors:
        raise ValidationFailed("One or more validation errors occurred.", errors=errors)
    product.name, product.description = fields.name, description or ""
    product.price, product.discount = fields.price, fields.discount  # final_price follows in the UPDATE
    product.low_stock_threshold, product.is_active = fields.low_stock_threshold, bool(is_active)
    product.images, product.dynamic_attributes = fields.images, fields.dynamic_attributes
    product.customization_options, product.categories = fields.customization_options, fields.categories
    session.flush()
    return product


def list_admin_products(session: Session, *, page: int, page_size: int,
                        search: str | None = None) -> tuple[list[Product], int]:
    """One page of every product of the store, active or not, by name then id, and the number
    of all that match; `search` is a case-insensitive substring of the name or the SKU. Two
    queries (COUNT, the page) plus the page's categories."""
    search = (search or "").strip()
    _check_listing(page, page_size, search, None, None)
    conditions = []
    if search:
        # Both sides lowered by the database's own lower(), so they always agree on what case is.
        pattern = func.lower(_like_contains(search))
        conditions.append(func.lower(Product.name).like(pattern, escape=LIKE_ESCAPE)
                          | func.lower(Product.sku).like(pattern, escape=LIKE_ESCAPE))
    total = session.scalar(select(func.count()).select_from(Product).where(*conditions)) or 0
    products = session.scalars(select(Product).where(*conditions).order_by(Product.name, Product.id)
                               .limit(page_size).offset((page - 1) * page_size)).all()
    return list(products), total


def list_all_categories(session: Session) -> list[Category]:
    """Every category of the store, active or not, by name (what a product may be filed under)."""
    return list(session.scalars(select(Category).order_by(Category.name, Category.id)))
