"""Pydantic building blocks shared by the API modules."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

Money = Annotated[Decimal, PlainSerializer(lambda d: float(d), return_type=float, when_used="json")]


class CamelModel(BaseModel):
    """Request and response models in the API's camelCase, also accepting snake_case names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


_PARAMETER_SCHEMAS: dict[type, dict] = {}


class ParameterModel(BaseModel):
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
    x_tenant_slug: str | None = Field(None, alias="X-Tenant-Slug", description="The store this call is for, e.g. 'demo'")
