"""The public catalog (section 3 of multi-tenant-platform-api.md): products and categories."""
from __future__ import annotations

from uuid import UUID

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, RootModel

from api.schemas import CamelModel, Identifier, Money, ParameterModel, PriceIn, Ratio, TenantHeader, problem_responses
from core.catalog import listing as catalog
from core.catalog.pages import catalog_pages
from core.tenancy.features import Feature, require_feature
from core.validation import PageNumber
from web.tenancy import current_tenant, tenant_db

bp = APIBlueprint("catalog", __name__, url_prefix="/api/catalog", abp_tags=[Tag(name="Catalog")])


class ProductListQuery(ParameterModel, CamelModel):
    page: PageNumber = 1
    page_size: int = Field(catalog.DEFAULT_PAGE_SIZE, ge=1, le=catalog.MAX_PAGE_SIZE, description="Items per page")
    search: str | None = Field(None, max_length=catalog.MAX_SEARCH_LENGTH, description="Search in product names")
    category_id: UUID | None = Field(None, description="Filter by category")
    min_price: PriceIn | None = Field(None, description="Minimum final price (inclusive); above maxPrice, "
                                                        "nothing is found")
    max_price: PriceIn | None = Field(None, description="Maximum final price (inclusive)")


class ProductPath(ParameterModel):
    product_id: Identifier = Field(description="Product identifier (UUID)")


class CategorySummaryDto(BaseModel):
    """A category named on a product, read from a Category or a CategoryRef."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str


class ProductDto(CamelModel):
    """ProductDto of multi-tenant-platform-api.md §3: money with two places, the discount as
    stored (0.15, 0.125), the categories a shopper sees."""

    id: str
    name: str
    description: str
    price: Money
    discount: Ratio = Field(description="0.00 – 1.00")
    final_price: Money = Field(description="price × (1 − discount)")
    stock: int
    is_active: bool
    images: list[str]
    categories: list[CategorySummaryDto]
    dynamic_attributes: dict

    @staticmethod
    def fields_of(product) -> dict:
        """The fields of the answer for a Product or a catalog page's ListedProduct, by name, for
        ProductDto to validate: one product in `of`, a whole page in one validation in
        ProductListResponse.of (the categories are read from their attributes)."""
        return {"id": product.id, "name": product.name, "description": product.description, "price": product.price,
                "discount": product.discount, "final_price": product.final_price, "stock": product.stock,
                "is_active": product.is_active, "images": product.images or [],
                "categories": catalog.shopper_categories(product),
                "dynamic_attributes": product.dynamic_attributes or {}}

    @classmethod
    def of(cls, product) -> ProductDto:
        """The answer for a Product, or a ListedProduct of a catalog page."""
        return cls.model_validate(cls.fields_of(product))


class ProductListResponse(CamelModel):
    items: list[ProductDto]
    total_count: int
    page: int
    page_size: int
    total_pages: int

    @classmethod
    def of(cls, products, total_count: int, page: int, page_size: int) -> ProductListResponse:
        """One page of products of `total_count` matches."""
        return cls(items=[ProductDto.fields_of(p) for p in products], total_count=total_count, page=page,
                   page_size=page_size, total_pages=catalog.total_pages(total_count, page_size))


class CategoryDto(CamelModel):
    id: str
    name: str
    description: str
    product_count: int = Field(description="Number of active products in the category")

    @classmethod
    def of(cls, category, product_count: int) -> CategoryDto:
        """The answer for a Category with the number of its active products."""
        return cls(id=category.id, name=category.name, description=category.description,
                   product_count=product_count)


class CategoryListResponse(RootModel[list[CategoryDto]]):
    @classmethod
    def of(cls, counted) -> CategoryListResponse:
        """The answer for (category, number of its active products) pairs."""
        return cls([CategoryDto.of(category, count) for category, count in counted])


@bp.get("/products", responses={200: ProductListResponse, **problem_responses(400, 403, 409, 423)})
def list_products(query: ProductListQuery, header: TenantHeader):
    """A page of active products, filtered by name, category and final price."""
    tenant = current_tenant()
    require_feature(tenant, Feature.CATALOG)
    listing = catalog_pages().list_products(
        tenant, tenant_db, page=query.page, page_size=query.page_size, search=query.search,
        category_id=query.category_id, min_price=query.min_price, max_price=query.max_price)
    return ProductListResponse.of(listing.items, listing.total, query.page, query.page_size)


@bp.get("/products/<product_id>", responses={200: ProductDto, **problem_responses(403, 404, 409, 423)})
def get_product(path: ProductPath, header: TenantHeader):
    """One active product; 404 when it is unknown or inactive."""
    require_feature(current_tenant(), Feature.CATALOG)
    return ProductDto.of(catalog.get_active_product(tenant_db(), path.product_id))


@bp.get("/categories", responses={200: CategoryListResponse, **problem_responses(403, 409, 423)})
def list_categories(header: TenantHeader):
    """Every active category with the number of active products in it."""
    require_feature(current_tenant(), Feature.CATEGORIES)
    return CategoryListResponse.of(catalog.list_categories(tenant_db()))
