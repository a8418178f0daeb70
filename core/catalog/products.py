"""Adding and changing products, under the rules of core.catalog.rules.

Invariants: the SKU is unique (AlreadyExists, 409) and never changes; the plan's maxProducts is
never exceeded (LimitExceeded, 403); stock changes only through core.inventory.services (create
sets the first stock); final_price is price × (1 − discount). Each verb flushes; the caller's
unit of work commits.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.catalog.models import Category, Product
from core.catalog.rules import NewProduct, ProductDetails, category_keys, checked
from core.errors import AlreadyExists, ValidationFailed
from core.money import final_price
from core.tenancy.features import Limit, check_limit


def _validated(session: Session, model: type[ProductDetails], fields: dict) -> tuple[ProductDetails, list[Category]]:
    """The fields checked by `model`, and the categories they name read from the store; every
    bad field at once (ValidationFailed), an unknown category among them."""
    errors: dict[str, list[str]] = {}
    details = None
    try:
        details = checked(model, fields)
    except ValidationFailed as exc:
        errors.update(exc.errors or {})
    categories = []
    if "categoryIds" not in errors:
        keys = details.category_ids if details is not None else category_keys(fields.get("category_ids"))
        if keys:
            categories = list(session.scalars(select(Category).where(Category.id.in_(keys))))
            if len(categories) != len(set(keys)):
                errors["categoryIds"] = ["Every category id must name an existing category."]
    if errors:
        raise ValidationFailed("One or more validation errors occurred.", errors=errors)
    return details, categories


def _lock_product_creation(session: Session) -> None:
    """PostgreSQL: serialise product creation in this database for the rest of the transaction,
    so two concurrent creates cannot both pass the plan's maxProducts count. (SQLite writers
    are already serialised by BEGIN IMMEDIATE.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('storefleet.create_product'))"))


def create_product(session: Session, tenant, *, sku: str, name: str, price, quantity: int,
                   description: str = "", discount=0, images: Iterable[str] | None = None,
                   dynamic_attributes: dict | None = None, customization_options: dict | None = None,
                   category_ids: Iterable[str] = (), low_stock_threshold: int = 10,
                   is_active: bool = True) -> Product:
    """Add a product to the tenant's catalog under core.catalog.rules.NewProduct (ValidationFailed
    names every bad field and adds nothing); a taken SKU is AlreadyExists (409), one more product
    than the plan's maxProducts is LimitExceeded (403). Flushes; the caller commits."""
    new, categories = _validated(session, NewProduct, dict(
        sku=sku, name=name, price=price, quantity=quantity, description=description, discount=discount,
        images=images, dynamic_attributes=dynamic_attributes, customization_options=customization_options,
        category_ids=category_ids, low_stock_threshold=low_stock_threshold, is_active=is_active))
    _lock_product_creation(session)
    if session.scalar(select(Product.id).where(Product.sku == new.sku)) is not None:
        raise AlreadyExists(f"A product with SKU '{new.sku}' already exists.", field="sku", sku=new.sku)
    existing = session.scalar(select(func.count()).select_from(Product)) or 0
    check_limit(tenant, Limit.MAX_PRODUCTS, existing + 1)

    product = Product(
        sku=new.sku, name=new.name, description=new.description, price=new.price, discount=new.discount,
        final_price=final_price(new.price, new.discount), stock=new.quantity,
        low_stock_threshold=new.low_stock_threshold, is_active=new.is_active, images=new.images,
        dynamic_attributes=new.dynamic_attributes, customization_options=new.customization_options,
        categories=categories,
    )
    session.add(product)
    try:
        session.flush()
    except IntegrityError as exc:
        # Another transaction took the SKU between our check and our insert.
        raise AlreadyExists(f"A product with SKU '{new.sku}' already exists.", field="sku", sku=new.sku) from exc
    return product


def update_product(session: Session, product: Product, *, name: str, price, description: str = "", discount=0,
                   images: Iterable[str] | None = None, dynamic_attributes: dict | None = None,
                   customization_options: dict | None = None, category_ids: Iterable[str] = (),
                   low_stock_threshold: int = 10, is_active: bool = True) -> Product:
    """Replace a product's details under core.catalog.rules.ProductDetails (ValidationFailed names
    every bad field and changes nothing). The SKU stays (orders and API callers name the product
    by it) and so does the stock, which only changes through core.inventory.services. Flushes;
    the caller commits."""
    details, categories = _validated(session, ProductDetails, dict(
        name=name, price=price, description=description, discount=discount, images=images,
        dynamic_attributes=dynamic_attributes, customization_options=customization_options,
        category_ids=category_ids, low_stock_threshold=low_stock_threshold, is_active=is_active))
    product.name, product.description = details.name, details.description
    product.price, product.discount = details.price, details.discount  # final_price follows at the flush
    product.low_stock_threshold, product.is_active = details.low_stock_threshold, details.is_active
    product.images, product.dynamic_attributes = details.images, details.dynamic_attributes
    product.customization_options, product.categories = details.customization_options, categories
    session.flush()
    return product
