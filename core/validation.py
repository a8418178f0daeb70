"""Field rules shared by the API's pydantic models and the portals' forms."""
from __future__ import annotations

import phonenumbers
from pydantic import ValidationError

from core.errors import ValidationFailed


def normalize_phone(value: str) -> str:
    """A possible phone number in international form ('+' and country code) → E.164.
    Raises ValueError with a message fit to show beside the field."""
    text = (value or "").strip()
    if not text.startswith("+"):
        raise ValueError("Phone must be in international form, starting with + and the country code.")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Phone is not a phone number.") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("Phone is not a possible phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validation_failed(exc: ValidationError) -> ValidationFailed:
    """A pydantic ValidationError as the domain's ValidationFailed, its messages keyed by field
    path in the input's own names ('products.0.quantity'), as the API and the forms show them."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(location, []).append(error["msg"].removeprefix("Value error, "))
    return ValidationFailed("One or more validation errors occurred.", errors=errors)
