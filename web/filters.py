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


def page_links(page: int, pages: int) -> list[int | None]:
    """The page numbers a pager shows: the first two, the last two and two either side of
    `page`, in order, with None where numbers are left out (1 2 … 7 8 9 10 11 … 791 792). The
    template loops over a dozen items, not over every page of a large catalog."""
    shown = sorted({n for n in (1, 2, pages - 1, pages, *range(page - 2, page + 3)) if 1 <= n <= pages})
    links: list[int | None] = []
    for n in shown:
        if links and n - links[-1] > 1:
            links.append(None)
        links.append(n)
    return links


def register_template_filters(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(attribute_label, "attribute_label")
    app.add_template_global(page_links, "page_links")
