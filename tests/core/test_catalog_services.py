"""core.catalog (listing, products, rules) on a real tenant database (SQLite): the invariants the API relies on."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.catalog import listing, products
from core.catalog.models import Product
from core.errors import Conflict, LimitExceeded, NotFound, ValidationFailed


def create(session, tenant, **fields):
    spec = {"sku": "SKU-1", "name": "Thing", "price": Decimal("10.00"), "quantity": 1, **fields}
    return products.create_product(session, tenant, **spec)


@pytest.fixture
def shop(app, create_tenant, tenant_db):
    """A new Ready tenant: shop.tenant() reads its current row, shop.session() opens its database."""
    slug = create_tenant()

    def tenant():
        with app.app_context():
            from core.tenancy.admin import get_tenant

            return get_tenant(slug)

    return SimpleNamespace(tenant=tenant, session=lambda: tenant_db(slug))


def test_final_price_follows_every_orm_write_of_price_or_discount(shop):
    tenant, session = shop.tenant(), shop.session
    with session() as s:
        product = create(s, tenant, price=Decimal("80.00"), discount=Decimal("0.25"))
        assert product.final_price == Decimal("60.00")
        product_id = product.id
    with session() as s:
        s.get(Product, product_id).price = Decimal("100.00")
    with session() as s:
        assert s.get(Product, product_id).final_price == Decimal("75.00")
        s.get(Product, product_id).discount = Decimal("0.5")
    with session() as s:
        assert s.get(Product, product_id).final_price == Decimal("50.00")
        s.add(Product(sku="RAW", name="Raw insert", price=Decimal("19.99"), discount=Decimal("0.10"), stock=1))
    with session() as s:
        # 19.99 × 0.9 = 17.991 → 17.99, even though the insert never named final_price.
        assert s.query(Product).filter_by(sku="RAW").one().final_price == Decimal("17.99")


def test_final_price_rounds_half_up(shop):
    tenant, session = shop.tenant(), shop.session
    with session() as s:
        # 0.05 × (1 − 0.5) = 0.025 → 0.03 (half-up), never 0.02 (banker's rounding).
        assert create(s, tenant, price=Decimal("0.05"), discount=Decimal("0.5")).final_price == Decimal("0.03")


def test_create_product_lists_every_invalid_field(shop):
    tenant, session = shop.tenant(), shop.session
    with session() as s, pytest.raises(ValidationFailed) as failure:
        products.create_product(s, tenant, sku="bad sku", name=" ", price=10.5, quantity=-1, discount=Decimal("1.5"),
                               category_ids=["not-a-uuid"], low_stock_threshold=-3)
    assert set(failure.value.errors) == {"sku", "name", "price", "quantity", "discount", "categoryIds",
                                         "lowStockThreshold"}
    assert "float" in failure.value.errors["price"][0]


def test_create_product_refuses_an_unknown_category(shop):
    import uuid

    tenant, session = shop.tenant(), shop.session
    with session() as s, pytest.raises(ValidationFailed) as failure:
        create(s, tenant, category_ids=[str(uuid.uuid4())])
    assert list(failure.value.errors) == ["categoryIds"]


def test_create_product_refuses_a_taken_sku(shop):
    tenant, session = shop.tenant(), shop.session
    with session() as s, pytest.raises(Conflict):
        create(s, tenant, sku="PROD001")


def test_create_product_keeps_to_the_plan_limit(shop, client, superadmin_headers):
    current_tenant, session = shop.tenant, shop.session
    patched = client.patch(f"/superadmin/tenants/{current_tenant().slug}", headers=superadmin_headers,
                           json={"limits": {"maxProducts": 6}})
    assert patched.status_code == 200
    tenant = current_tenant()  # five seeded products: room for exactly one more
    with session() as s:
        create(s, tenant, sku="SIXTH")
    with session() as s, pytest.raises(LimitExceeded):
        create(s, tenant, sku="SEVENTH")


def test_list_products_validates_its_arguments_for_every_caller(shop):
    session = shop.session
    with session() as s, pytest.raises(ValidationFailed) as failure:
        listing.list_products(s, page=0, page_size=101, min_price=Decimal("-1"), max_price=Decimal("NaN"))
    assert set(failure.value.errors) == {"page", "pageSize", "minPrice", "maxPrice"}
    with session() as s, pytest.raises(ValidationFailed) as failure:
        listing.list_products(s, page=1, page_size=10, category_id="audio")
    assert list(failure.value.errors) == ["categoryId"]


def test_get_active_product_hides_inactive_and_malformed_ids(shop):
    tenant, session = shop.tenant(), shop.session
    with session() as s:
        hidden = create(s, tenant, sku="HIDDEN", is_active=False).id
    for key in (hidden, "HIDDEN", "", "../etc"):
        with session() as s, pytest.raises(NotFound):
            listing.get_active_product(s, key)
