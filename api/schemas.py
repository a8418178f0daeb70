"""Pydantic building blocks shared by the API modules."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from operator import methodcaller
from typing import Annotated
from uuid import UUID

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, Strict, StringConstraints,
                      WithJsonSchema)
from pydantic.alias_generators import to_camel

from core.catalog.rules import MAX_PRICE
from core.money import CENT
from core.validation import RequestModel

RATIO_CENTS = Decimal("0.01")


def ratio_as_sent(value: Decimal) -> Decimal:
    """A ratio (a discount) as the API sends it: two places (0.15) unless the stored four places
    need more (0.125)."""
    short = value.quantize(RATIO_CENTS)
    return short if short == value else value.normalize()


# In the OpenAPI document a JSON number; in answers a Decimal that api.answers hands to the
# app's JSON provider, which writes its digits (10.00, never 10.0).
_AS_NUMBER = PlainSerializer(lambda d: float(d), return_type=float, when_used="json")
# Cents, half-up, as core.money.to_money; a C-level call, since it runs for every amount of every answer.
_to_cents = methodcaller("quantize", CENT, ROUND_HALF_UP)
# An amount of money in an answer: a Decimal (never a float: Strict), quantized to cents.
Money = Annotated[Decimal, Strict(), AfterValidator(_to_cents), _AS_NUMBER]
# A ratio in an answer (0.00 – 1.00): a Decimal, as ratio_as_sent writes it.
Ratio = Annotated[Decimal, Strict(), AfterValidator(ratio_as_sent), _AS_NUMBER]


# A price a client sends (a body's or a query's): read as a Decimal, from a JSON number or a
# string of digits; the document says a number from 0 to MAX_PRICE.
PriceIn = Annotated[Decimal, Field(ge=0, le=MAX_PRICE),
                    WithJsonSchema({"type": "number", "minimum": 0, "maximum": float(MAX_PRICE)})]
# An id or key a client names a row by (a UUID, a SKU, a slug, a purchase id): never longer than
# 64 characters in any table, so a longer one is a 400 naming the field, before any look-up.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# A UUID as a header carries it, with or without its hyphens: documented by its pattern rather
# than the format "uuid" (a generated client passes a header of that format on as a UUID object,
# which its HTTP library refuses), read as a UUID.
UUID_PATTERN = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
UuidText = Annotated[str, StringConstraints(min_length=32, max_length=36, pattern=UUID_PATTERN), AfterValidator(UUID)]
# A store's slug as a request names it (core.tenancy.provisioning.validate_slug decides the rest).
SlugText = Annotated[str, StringConstraints(min_length=1, max_length=63)]
# A new store's slug, documented as core.tenancy.provisioning.validate_slug checks it (the few
# reserved names aside), which answers its own messages.
NewSlug = Annotated[str, StringConstraints(min_length=1, max_length=63),
                    WithJsonSchema({"type": "string", "minLength": 3, "maxLength": 63,
                                    "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"})]


class CamelModel(BaseModel):
    """Request and response models in the API's camelCase, also accepting snake_case names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class CamelRequest(RequestModel, CamelModel):
    """A request body in the API's camelCase (core.validation.RequestModel: no NUL in its text)."""


_PARAMETER_SCHEMAS: dict[type, dict] = {}


class ParameterModel(RequestModel):
    """Base of header, query and path models. flask-openapi3 asks such a model for its JSON
    schema on every request (to read the type of each field); a model's schema cannot change
    while the app runs, so the argument-less call is computed once per class."""

    @classmethod
    def model_json_schema(cls, *args, **kwargs) -> dict:
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        schema = _PARAMETER_SCHEMAS.get(cls)
        if schema is None:
            schema = _PARAMETER_SCHEMAS[cls] = super().model_json_schema()
        return schema


class Problem(BaseModel):
    """RFC 9457 ProblemDetails, the shape of every error."""

    type: str | None = None
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: dict[str, list[str]] | None = None


def problem_responses(*statuses: int) -> dict:
    return {status: Problem for status in statuses}


class TenantHeader(ParameterModel):
    """Documents the header in the OpenAPI document; the value is read by web.tenancy."""

    # Optional here so that a missing header answers the documented 409, not a 400.
    x_tenant_slug: str | None = Field(None, alias="X-Tenant-Slug", max_length=63,
                                      description="The store this call is for, e.g. 'demo'")
