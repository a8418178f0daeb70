"""Field rules shared by the API's pydantic models, the domain's and the pages' forms: each rule
is written once, here."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

import email_validator
import phonenumbers
from pydantic import (AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints, ValidationError,
                      WithJsonSchema, field_validator)

from core.errors import ValidationFailed

# An email address is checked for its syntax (pydantic's EmailStr, WTForms' Email: email-validator,
# a dot in the domain, no look-up), as the API document's format "email" says. Names reserved for
# testing and private networks (.test, .invalid, .local, ...) are syntax as well: email-validator
# refuses them unless its documented list of them is emptied, which the platform does once here.
email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()

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

# A phone number as a request writes it: + and a country calling code, then digits and the usual
# separators. It has as many digits as a number of that country may (phonenumbers' lengths), or
# E.164's shape: 8 to 15 digits in all (the contract's own example, +1234567890, is one digit
# short of a North American number and must be accepted). The pattern is the whole rule, so the
# API document states it exactly; normalize_phone checks it, then writes the number in E.164.
E164_DIGITS = range(8, 16)


def _national_lengths(code: int) -> tuple[int, int]:
    """The fewest and most digits after calling code `code`: its countries' shortest possible
    number, or fewer as E.164's shape allows, and at most 15 digits in all."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    metadata = [phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code) if region == "001"
                else phonenumbers.PhoneMetadata.metadata_for_region(region) for region in regions]
    lengths = [length for each in metadata if each is not None for length in each.general_desc.possible_length
               if length > 0]
    digits = len(str(code))
    return min([*lengths, E164_DIGITS.start - digits]), E164_DIGITS.stop - 1 - digits


def _phone_pattern() -> str:
    """+, a calling code, then its number's digits, each after any separators. Written without a
    lookahead (the calling codes grouped by their numbers' lengths) so that a generator drawing
    strings from the pattern, a fuzzer's, finds valid numbers at once."""
    by_lengths: dict[tuple[int, int], list[str]] = {}
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        by_lengths.setdefault(_national_lengths(code), []).append(str(code))
    separators = "[ ().-]*"
    branches = [f"(?:{'|'.join(codes)})(?:{separators}[0-9]){{{low},{high}}}"
                for (low, high), codes in sorted(by_lengths.items())]
    return rf"^\+(?:{'|'.join(branches)}){separators}$"


PHONE_PATTERN = _phone_pattern()
_PHONE = re.compile(PHONE_PATTERN)


def normalize_phone(value: str) -> str:
    """A phone number of PHONE_PATTERN → E.164, or ValueError with a message fit to show beside
    the field. The phonenumbers library writes it (dropping a national prefix written in
    brackets: +44 (0)20 7946 0958 → +442079460958) when what it writes is of the pattern too;
    else the number keeps its digits as written."""
    if not _PHONE.fullmatch(value or ""):
        raise ValueError("Phone must be in international form: + and the country code, then the number, "
                         "at most 15 digits in all, with spaces, dots, dashes or brackets between them.")
    as_written = "+" + re.sub(r"[^0-9]", "", value)
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return as_written
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if _PHONE.fullmatch(e164) else as_written


def strip_whitespace(value: str | None) -> str | None:
    """A form's text without the whitespace around it (a WTForms filter; None stays None)."""
    return value.strip() if isinstance(value, str) else value


# A phone number as a request sends it (at most 32 characters), stored in E.164 (normalize_phone).
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(normalize_phone),
                  WithJsonSchema({"type": "string", "maxLength": 32, "pattern": PHONE_PATTERN})]


# What a name or an address holds besides spaces: the characters str.strip() removes (every one
# str.isspace() calls space; all lie below U+3001), as a pattern for the API document. Text of
# NOT_BLANK_PATTERN holds one character that is neither space nor NUL, and no NUL.
_SPACES = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())
NOT_BLANK_PATTERN = f"^[^\\u0000]*[^{_SPACES}\\u0000][^\\u0000]*$"


def _not_blank(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("Must not be blank.")
    return text


def not_blank(max_length: int):
    """Text of at most `max_length` characters as sent, not only spaces (400 otherwise), read
    without the spaces around it; the document carries NOT_BLANK_PATTERN."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length), AfterValidator(_not_blank),
                     Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN})]


# The one character no text column of PostgreSQL can hold: a request's text never carries it.
NUL = "\x00"
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _holds_nul(value) -> bool:
    """Whether a field's parsed value holds NUL in its text: a string, or a list's items, or a
    map's keys and values (a nested model checks its own fields)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return False


class RequestModel(BaseModel):
    """Base of every model of what a request sends (body, query, path, headers): no field's text
    may hold NUL (U+0000), which PostgreSQL cannot store or compare, so it is a 400 naming the
    field instead of a database error. Only the declared fields are read: an extra property, which
    the models ignore, is not checked. The API document says the same (api.document)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if _holds_nul(value):
            raise ValueError("Text must not contain the NUL character (U+0000).")
        return value


def validation_failed(exc: ValidationError) -> ValidationFailed:
    """A pydantic ValidationError as the domain's ValidationFailed, its messages keyed by field
    path in the input's own names ('products.0.quantity'), as the API and the forms show them."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(location, []).append(error["msg"].removeprefix("Value error, "))
    return ValidationFailed("One or more validation errors occurred.", errors=errors)
