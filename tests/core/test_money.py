from decimal import Decimal

import pytest

from core.money import final_price, to_money


def test_to_money_rounds_half_up():
    assert to_money(Decimal("76.497")) == Decimal("76.50")
    assert to_money(Decimal("0.005")) == Decimal("0.01")
    assert to_money(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67


def test_to_money_refuses_floats():
    with pytest.raises(TypeError):
        to_money(0.1)


def test_final_price_applies_discount():
    assert final_price(Decimal("299.99"), Decimal("0.15")) == Decimal("254.99")
    assert final_price(Decimal("10.00"), Decimal("0")) == Decimal("10.00")
    assert final_price(Decimal("10.00"), Decimal("1")) == Decimal("0.00")
