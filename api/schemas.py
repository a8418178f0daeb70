"""Pydantic building blocks shared by the API modules."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

Money = Annotated[Decimal, PlainSerializer(lambda d: float(d), return_type=float, when_used="json")]
PositiveInt = Annotated[int, Field(strict=True, gt=0)]


class CamelModel(BaseModel):
    """Request and response models in the API's camelCase, also accepting snake_case names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


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
