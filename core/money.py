"""Money is Decimal with two places, rounded half-up; never float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# The largest amount an order's line or total can hold (NUMERIC(12, 2) in the database).
MAX_AMOUNT = Decimal("9999999999.99")


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantize to cents, half-up. Floats are refused: they have already lost the cents."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def final_price(price: Decimal, discount: Decimal) -> Decimal:
    """price × (1 − discount), rounded to cents."""
    return to_money(Decimal(price) * (Decimal(1) - Decimal(discount)))


def format_money(value: Decimal | int | str) -> str:
    """An amount as shoppers and admins read it: '$1,234.50' (cents, half-up, as stored)."""
    return f"${to_money(value):,.2f}"
