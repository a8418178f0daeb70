"""Product cards of the catalog page, rendered once per process for what they show.

A card is the same HTML for as long as the product's shown values are the same: its link and
first image, name, prices, discount and stock badge. The catalog page shows a dozen of them, and
rendering them was half of the page's template time; each card is kept (at most CARDS of them,
the least recently used dropped first) under the very values it shows, so a change of any of
them renders it anew and a kept card is never stale.
"""
from __future__ import annotations

from cachetools import LRUCache
from flask import get_template_attribute
from markupsafe import Markup

from core.caching import ProcessCache
from core.inventory.services import stock_status

CARDS = 4096
STOCK_LABELS = {"in_stock": "In stock", "low_stock": "Low stock", "out_of_stock": "Out of stock"}
_cards: ProcessCache[tuple, Markup] = ProcessCache(0, entries=LRUCache(CARDS))


def stock_state(product) -> str:
    """in_stock, low_stock or out_of_stock (a badge's class)."""
    return stock_status(product.stock, product.low_stock_threshold)


def stock_label(product) -> str:
    return STOCK_LABELS[stock_state(product)]


def product_card(product) -> Markup:
    """The card of a product of a catalog page (storefront/_macros.html product_card)."""
    shown = (product.id, product.name, (product.images or [None])[0], product.final_price, product.price,
             product.discount, stock_state(product))
    return _cards.get(shown, lambda _shown: get_template_attribute("storefront/_macros.html", "product_card")(product))
