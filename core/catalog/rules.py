"""The rules of a product's fields, as pydantic models: every product keeps them on create and
on update, whoever sends it (the inventory API, the store admin's form, the tests' factories).

Errors are keyed by the API's field names (`lowStockThreshold`), with messages fit to show beside
a form's field; every bad field is reported at once (core.validation.validation_failed).
"""
from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel

from core.money import to_money
from core.validation import MAX_QUANTITY, validation_failed

# Numeric(12, 2): the largest amount a price column holds.
MAX_PRICE = Decimal("9999999999.99")
MAX_NAME = 200
MAX_IMAGES = 20
MAX_IMAGE_URL_LENGTH = 2000
MAX_OPTIONS = 50
MAX_TEXT = 200
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# What uuid.UUID reads as a UUID among such tokens: 32 hex digits, with hyphens anywhere.
UUID_LIKE = r"(?:-*[0-9A-Fa-f]){32}-*$"
# Both rules as one JSON Schema pattern (ECMA-262, with a lookahead), for the API document.
SKU_SCHEMA_PATTERN = f"^(?!{UUID_LIKE}){SKU_PATTERN.pattern[1:]}"


def uuid_or_none(value) -> str | None:
    """The canonical text of a UUID (as ids are stored), or None when `value` is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def sku_problem(sku) -> str | None:
    """Why `sku` cannot name a product, or None when it can. A SKU travels in URL paths, and
    products are looked up by SKU or UUID, so a SKU is a short token that is never a UUID."""
    if not isinstance(sku, str) or not SKU_PATTERN.fullmatch(sku):
        return ("SKU must be 1–64 characters: letters, digits, '.', '_' or '-', "
                "starting with a letter or digit.")
    if uuid_or_none(sku) is not None:
        return "SKU must not be a UUID."
    return None


def decimal_number(value, field: str) -> Decimal:
    """A finite Decimal; floats are refused, they have already lost the cents."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{field} must be a decimal number, not a float.")
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{field} must be a decimal number.") from None
    if not number.is_finite():
        raise ValueError(f"{field} must be a decimal number.")
    return number


def _sku(value) -> str:
    value = value.strip() if isinstance(value, str) else value
    if (problem := sku_problem(value)) is not None:
        raise ValueError(problem)
    return value


def _name(value) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"Name is required (at most {MAX_NAME} characters).")
    return name


def _price(value) -> Decimal:
    amount = decimal_number(value, "price")
    if not 0 <= amount <= MAX_PRICE:
        raise ValueError(f"price must be from 0 to {MAX_PRICE}.")
    return to_money(amount)


def _discount(value) -> Decimal:
    ratio = decimal_number(value, "discount")
    if not 0 <= ratio <= 1:
        raise ValueError("discount must be from 0 to 1.")
    return ratio.quantize(Decimal("0.0001"))


def _whole(minimum: int, message: str):
    def check(value) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_QUANTITY:
            raise ValueError(message)
        return value

    return check


def category_keys(value) -> tuple[str, ...]:
    """Category ids as stored (canonical UUID text); ValueError when one is not a UUID."""
    keys = [uuid_or_none(key) for key in (value or ())]
    if None in keys:
        raise ValueError("Every category id must name an existing category.")
    return tuple(keys)


def _images(value) -> list[str]:
    """Images are web addresses: absolute http(s) URLs or paths on this site ('/static/…')."""
    images = [image.strip() if isinstance(image, str) else image for image in (value or [])]
    if len(images) > MAX_IMAGES:
        raise ValueError(f"At most {MAX_IMAGES} images.")
    for image in images:
        if not isinstance(image, str) or not image or len(image) > MAX_IMAGE_URL_LENGTH:
            raise ValueError(f"Each image must be a URL of at most {MAX_IMAGE_URL_LENGTH} characters.")
        parts = urlsplit(image)
        absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
        on_this_site = not parts.scheme and not parts.netloc and image.startswith("/") and not image.startswith("//")
        if not (absolute or on_this_site) or any(c.isspace() for c in image):
            raise ValueError(f"'{image[:80]}' is not an http(s) URL or a path starting with '/'.")
    return images


def _attributes(value) -> dict[str, str]:
    """Dynamic attributes: up to MAX_OPTIONS names, each a short text with a short text value."""
    attributes = dict(value or {})
    if len(attributes) > MAX_OPTIONS:
        raise ValueError(f"At most {MAX_OPTIONS} attributes.")
    for key, text in attributes.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_TEXT or not isinstance(text, str) \
                or len(text) > MAX_TEXT:
            raise ValueError(f"Each attribute needs a name and a text value of at most {MAX_TEXT} characters.")
    return attributes


def _option_is_valid(key, option) -> bool:
    if not (isinstance(key, str) and key.strip() and len(key) <= MAX_TEXT and isinstance(option, dict)):
        return False
    values = option.get("values")
    return (set(option) <= {"required", "values"} and isinstance(option.get("required", False), bool)
            and (values is None or (isinstance(values, list) and len(set(values)) == len(values) and all(
                isinstance(v, str) and v.strip() and len(v) <= MAX_TEXT for v in values))))


def _customization(value) -> dict[str, dict]:
    """Customization options as core.provisioner validates them: {name: {"required": bool,
    "values": [allowed texts]?}}; a name without values accepts any text."""
    options = dict(value or {})
    if len(options) > MAX_OPTIONS:
        raise ValueError(f"At most {MAX_OPTIONS} options.")
    for key, option in options.items():
        if not _option_is_valid(key, option):
            raise ValueError(f"Option '{str(key)[:40]}' must have a name, 'required' true or false, and "
                             "optionally a list of distinct allowed values.")
    return options


class ProductDetails(BaseModel):
    """What a product's owner sets (everything but the SKU and the stock, which change only by
    create and through core.inventory)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")

    name: Annotated[str, PlainValidator(_name)]
    description: Annotated[str, PlainValidator(lambda value: value or "")] = ""
    price: Annotated[Decimal, PlainValidator(_price)]
    discount: Annotated[Decimal, PlainValidator(_discount)] = Decimal("0.0000")
    low_stock_threshold: Annotated[int, PlainValidator(
        _whole(0, "lowStockThreshold must be a non-negative integer."))] = 10
    is_active: Annotated[bool, PlainValidator(bool)] = True
    category_ids: Annotated[tuple[str, ...], PlainValidator(category_keys)] = ()
    images: Annotated[list[str], PlainValidator(_images)] = []
    dynamic_attributes: Annotated[dict[str, str], PlainValidator(_attributes)] = {}
    customization_options: Annotated[dict[str, dict], PlainValidator(_customization)] = {}


class NewProduct(ProductDetails):
    """A product to add: its details, its SKU and its first stock."""

    sku: Annotated[str, PlainValidator(_sku)]
    quantity: Annotated[int, PlainValidator(_whole(0, f"quantity must be an integer from 0 to {MAX_QUANTITY}."))]


def checked(model: type[ProductDetails], fields: dict[str, Any]) -> ProductDetails:
    """`fields` (keyword names) validated by `model`; ValidationFailed names every bad field in
    the API's terms (lowStockThreshold, categoryIds)."""
    try:
        return model.model_validate({to_camel(name): value for name, value in fields.items()})
    except ValidationError as exc:
        raise validation_failed(exc) from None
