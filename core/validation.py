"""Field rules shared by the API's pydantic models, the domain's and the pages' forms: each rule
is written once, here."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationError

from core.errors import ValidationFailed

# Quantities and stock are 32-bit integers in the database: no quantity or stock may pass this.
MAX_QUANTITY = 2_147_483_647


def _whole_number(value):
    """A JSON number with no fraction (2.0, read as a float or, by the API's JSON provider, a
    Decimal) as the integer it is, as JSON Schema reads it; any other value is left to the
    strict integer check (which refuses "2", 2.5 and true)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


# A whole number of units (JSON 2 or 2.0; never "2", 2.5 or true), from 0 up to MAX_QUANTITY.
Units = Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY), BeforeValidator(_whole_number)]
# A positive whole number of units, as every request that names a quantity takes it.
Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY, description="A positive whole number of units"),
                     BeforeValidator(_whole_number)]

# The largest page number a list takes: past it, a page of the largest size could only be empty
# (10^8 rows); a page number beyond it is a 400 naming the field, never an offset the database
# refuses.
MAX_PAGE = 1_000_000
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE, description="Page number (1-based)")]

# E.164: at most 15 digits with the country code; fewer than 8 is not a dialable number anywhere
# the per-country rules would not already accept.
E164_DIGITS = range(8, 16)


def normalize_phone(value: str) -> str:
    """A phone number in international form ('+' and a country calling code) → E.164, or
    ValueError with a message fit to show beside the field. It must be a possible number for its
    country, or at least have E.164's shape (8–15 digits): the contract's own example,
    +1234567890, is one digit short of a North American number and must be accepted."""
    text = (value or "").strip()
    if not text.startswith("+"):
        raise ValueError("Phone must be in international form, starting with + and the country code.")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Phone is not a phone number.") from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not (phonenumbers.is_possible_number(number) or len(e164) - 1 in E164_DIGITS):
        raise ValueError("Phone is not a possible phone number.")
    return e164


# A phone number as a request sends it (at most 32 characters), stored in E.164 (normalize_phone).
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(normalize_phone)]


def validation_failed(exc: ValidationError) -> ValidationFailed:
    """A pydantic ValidationError as the domain's ValidationFailed, its messages keyed by field
    path in the input's own names ('products.0.quantity'), as the API and the forms show them."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(location, []).append(error["msg"].removeprefix("Value error, "))
    return ValidationFailed("One or more validation errors occurred.", errors=errors)
