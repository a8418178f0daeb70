"""Field rules shared by the API's pydantic models and the portals' forms."""
from __future__ import annotations

import phonenumbers


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
