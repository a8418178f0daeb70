"""Template filters shared by the storefront and both portals."""
from __future__ import annotations

import re
from decimal import Decimal

from flask import Flask

from core.money import format_money


def percent(ratio) -> str:
    """A discount ratio as a percentage: 0.1500 → '15', 0.0525 → '5.25'."""
    return f"{(Decimal(ratio) * 100).normalize():f}"


def attribute_label(name: str) -> str:
    """A dynamic attribute's key as a label: 'maxLaptopSize' → 'Max laptop size'."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_-]+", " ", str(name)).split()
    return " ".join(words).capitalize() if words else str(name)


def register_template_filters(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(attribute_label, "attribute_label")
