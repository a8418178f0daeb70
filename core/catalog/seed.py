"""Demo data every new store starts with: categories and the five products of the inventory
document (PROD001–PROD005, with its names, quantities and prices)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.catalog.models import Category, Product

CATEGORIES = {
    "Audio": "Headphones, speakers and everything you listen with",
    "Accessories": "Chargers, cables and desk gear",
    "Computers": "Laptops, stands and peripherals",
    "Video": "Cameras and streaming equipment",
}

PRODUCTS = [
    {"sku": "PROD001", "name": "Wireless Headphones", "stock": 50, "price": "79.99", "discount": "0.10",
     "description": "Over-ear Bluetooth headphones with active noise cancelling and 30-hour battery life.",
     "categories": ["Audio"], "image": "headphones",
     "attributes": {"brand": "AudioTech", "color": "Black", "bluetooth": "5.3"},
     "customization": {"color": {"required": True, "values": ["Black", "Silver", "Blue"]},
                       "engraving": {"required": False}}},
    {"sku": "PROD002", "name": "USB-C Charger", "stock": 100, "price": "29.99", "discount": "0",
     "description": "65 W GaN charger with two USB-C ports and one USB-A port; folds flat for travel.",
     "categories": ["Accessories"], "image": "charger",
     "attributes": {"brand": "VoltWorks", "power": "65W", "ports": "2x USB-C, 1x USB-A"},
     "customization": {}},
    {"sku": "PROD003", "name": "Bluetooth Speaker", "stock": 30, "price": "149.99", "discount": "0.15",
     "description": "Waterproof portable speaker with 360° sound and a 20-hour battery.",
     "categories": ["Audio"], "image": "speaker",
     "attributes": {"brand": "AudioTech", "waterproof": "IP67", "battery": "20h"},
     "customization": {"color": {"required": True, "values": ["Black", "Red", "Teal"]}}},
    {"sku": "PROD004", "name": "Laptop Stand", "stock": 25, "price": "49.99", "discount": "0",
     "description": "Adjustable aluminium stand that lifts a laptop to eye level; fits 10–17 inch laptops.",
     "categories": ["Computers", "Accessories"], "image": "laptop-stand",
     "attributes": {"material": "Aluminium", "maxLaptopSize": "17in"},
     "customization": {}},
    {"sku": "PROD005", "name": "Webcam 1080p", "stock": 40, "price": "89.99", "discount": "0.05",
     "description": "Full HD webcam with autofocus, dual microphones and a privacy shutter.",
     "categories": ["Video", "Computers"], "image": "webcam",
     "attributes": {"resolution": "1920x1080", "fps": "30", "microphone": "dual"},
     "customization": {}},
]


def seed_demo_catalog(session: Session) -> bool:
    """Fill an empty catalog with the demo data; a store that has any product or category is left
    untouched (so re-running SeedData, or repair, never duplicates or overwrites). Returns True
    when it seeded."""
    has_data = session.scalar(select(func.count()).select_from(Product)) or session.scalar(
        select(func.count()).select_from(Category))
    if has_data:
        return False
    categories = {name: Category(name=name, description=description) for name, description in CATEGORIES.items()}
    session.add_all(categories.values())
    for spec in PRODUCTS:
        price, discount = Decimal(spec["price"]), Decimal(spec["discount"])
        session.add(Product(
            sku=spec["sku"], name=spec["name"], description=spec["description"], price=price, discount=discount,
            stock=spec["stock"], low_stock_threshold=10,
            is_active=True, images=[f"/static/img/products/{spec['image']}.svg"],
            dynamic_attributes=spec["attributes"], customization_options=spec["customization"],
            categories=[categories[c] for c in spec["categories"]],
        ))
    session.flush()
    return True
