"""The public catalog (section 3 of multi-tenant-platform-api.md): products and categories."""
from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, RootModel

from api.presenters import category_dto, product_dto, product_list_dto
from api.schemas import CamelModel, Money, ParameterModel, TenantHeader, problem_responses
from core.catalog import listing as catalog
from core.catalog.rules import MAX_PRICE
from core.tenancy.features import Feature, require_feature
from web.tenancy import current_tenant, tenant_db

bp = APIBlueprint("catalog", __name__, url_prefix="/api/catalog", abp_tags=[Tag(name="Catalog")])


class ProductListQuery(ParameterModel, CamelModel):
    page: int = Field(1, ge=1, description="Page number (1-based)")
    page_size: int = Field(catalog.DEFAULT_PAGE_SIZE, ge=1, le=catalog.MAX_PAGE_SIZE, description="Items per page")
    search: str | None = Field(None, max_length=catalog.MAX_SEARCH_LENGTH, description="Search in product names")
    category_id: UUID | None = Field(None, description="Filter by category")
    min_price: Decimal | None = Field(None, ge=0, le=MAX_PRICE, description="Minimum final price")
    max_price: Decimal | None = Field(None, ge=0, le=MAX_PRICE, description="Maximum final price")


class ProductPath(BaseModel):
    product_id: str = Field(description="Product identifier (UUID)")


class CategorySummaryDto(BaseModel):
    id: str
    name: str


class ProductDto(CamelModel):
    id: str
    name: str
    description: str
    price: Money
    discount: Money = Field(description="0.00 – 1.00")
    final_price: Money = Field(description="price × (1 − discount)")
    stock: int
    is_active: bool
    images: list[str]
    categories: list[CategorySummaryDto]
    dynamic_attributes: dict


class ProductListResponse(CamelModel):
    items: list[ProductDto]
    total_count: int
    page: int
    page_size: int
    total_pages: int


class CategoryDto(CamelModel):
    id: str
    name: str
    description: str
    product_count: int = Field(description="Number of active products in the category")


class CategoryListResponse(RootModel[list[CategoryDto]]):
    pass


@bp.get("/products", responses={200: ProductListResponse, **problem_responses(400, 403, 409, 423)})
def list_products(query: ProductListQuery, header: TenantHeader):
    """A page of active products, filtered by name, category and final price."""
    require_feature(current_tenant(), Feature.CATALOG)
    items, total = catalog.list_products(
        tenant_db(), page=query.page, page_size=query.page_size, search=query.search,
        category_id=query.category_id, min_price=query.min_price, max_price=query.max_price)
    return product_list_dto(items, total, query.page, query.page_size)


@bp.get("/products/<product_id>", responses={200: ProductDto, **problem_responses(403, 404, 409, 423)})
def get_product(path: ProductPath, header: TenantHeader):
    """One active product; 404 when it is unknown or inactive."""
    require_feature(current_tenant(), Feature.CATALOG)
    return product_dto(catalog.get_active_product(tenant_db(), path.product_id))


@bp.get("/categories", responses={200: CategoryListResponse, **problem_responses(403, 409, 423)})
def list_categories(header: TenantHeader):
    """Every active category with the number of active products in it."""
    require_feature(current_tenant(), Feature.CATEGORIES)
    return [category_dto(category, count) for category, count in catalog.list_categories(tenant_db())]
