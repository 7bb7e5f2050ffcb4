"""The simulated chain: products, stores, agent groups, channels, and customers' profiles.

Everything is a tuple or a function of a ``Random``: no set or dict iteration order decides
what is drawn, so the same seed draws the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from random import Random
from typing import Any


@dataclass(frozen=True)
class Product:
    sku: str
    category: str
    price: Decimal


PRODUCTS: tuple[Product, ...] = tuple(
    Product(sku, category, Decimal(price))
    for sku, category, price in (
        ("KT-2209", "kitchen", "299.00"),
        ("KT-3100", "kitchen", "459.00"),
        ("MUG-11", "kitchen", "39.50"),
        ("PAN-28", "kitchen", "189.00"),
        ("RC-500", "small-appliances", "599.00"),
        ("BL-700", "small-appliances", "349.00"),
        ("HD-120", "small-appliances", "229.00"),
        ("VC-90", "small-appliances", "1299.00"),
        ("TS-01", "apparel", "79.00"),
        ("JK-22", "apparel", "399.00"),
        ("SH-41", "apparel", "259.00"),
        ("TN-10", "outdoor", "899.00"),
        ("BK-03", "outdoor", "149.00"),
        ("LP-15", "electronics", "4999.00"),
        ("HP-07", "electronics", "699.00"),
        ("CH-65", "electronics", "99.00"),
        ("BK-PY", "books", "59.00"),
        ("TY-42", "toys", "129.00"),
    )
)
PRODUCT_WEIGHTS = (10, 4, 14, 6, 4, 5, 5, 2, 12, 4, 5, 2, 6, 1, 3, 9, 8, 6)
CATEGORIES = ("kitchen", "small-appliances", "apparel", "outdoor", "electronics", "books", "toys")

STORES = tuple(
    f"store-{city}-{n:02d}" for city in ("sh", "bj", "gz", "sz", "hz") for n in (1, 2, 3)
)
MERCHANTS = ("tmall-shop-88", "jd-shop-12", "meituan-shop-5")
AGENT_GROUPS = ("pre-sales", "orders-north", "orders-south", "after-sales-east", "after-sales-west")
SUPERVISORS = tuple(f"sup-{n}" for n in range(1, 9))

IM_CHANNELS = ("app", "mini_program", "web")
CONTACT_CHANNELS = (*IM_CHANNELS, "phone", "store", "social", "marketplace", "email")
CONTACT_CHANNEL_WEIGHTS = (30, 15, 15, 20, 8, 4, 4, 4)
"""R-CH-01. Phone and web lead as in the CFPB's and ServiceNow's channel mixes; a retail
chain adds its app and mini-program."""
ORDER_CHANNELS = ("app", "mini_program", "web", "store", "marketplace")
ORDER_CHANNEL_WEIGHTS = (40, 20, 15, 15, 10)
SOURCES = {
    "app": "app-gateway",
    "mini_program": "mini-program-gateway",
    "web": "web-shop",
    "phone": "ivr",
    "store": "store-device",
    "social": "social-hub",
    "marketplace": "marketplace-bridge",
    "email": "mail-ingest",
}
CARRIERS = ("SF Express", "JD Logistics", "ZTO", "YTO")

FAMILY_NAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou")
GIVEN_NAMES = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yang", "Jie", "Tao", "Xiu", "Hui")
STREETS = ("Nanjing Rd", "Huaihai Rd", "Jianguo Rd", "Tianhe Rd", "Wensan Rd", "Shennan Blvd")
CITIES = ("Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Hangzhou")


def pick(rng: Random, values: tuple[Any, ...], weights: tuple[int, ...] | None = None) -> Any:
    return rng.choices(values, weights)[0] if weights else rng.choice(values)


def basket(rng: Random) -> list[tuple[Product, int]]:
    """One to three distinct products (Olist: 82 % of orders hold one product line),
    mostly one of each."""
    lines = rng.choices((1, 2, 3), (82, 13, 5))[0]
    chosen: list[Product] = []
    while len(chosen) < lines:
        product = rng.choices(PRODUCTS, PRODUCT_WEIGHTS)[0]
        if product not in chosen:
            chosen.append(product)
    return [(p, rng.choices((1, 2, 3), (85, 12, 3))[0]) for p in chosen]


def personal(rng: Random, index: int) -> dict[str, str]:
    """Made-up personal data (R-CUS-02: sent only with service consent)."""
    name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
    data = {
        "name": name,
        "phone": f"+86 13{rng.randrange(10)} {index % 10000:04d} {rng.randrange(10000):04d}",
    }
    if rng.random() < 0.6:
        data["email"] = f"{name.lower().replace(' ', '.')}.{index}@example.com"
    if rng.random() < 0.5:
        data["address"] = f"{rng.randint(1, 999)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"
    return data


def birthday(rng: Random) -> str:
    month = rng.randint(1, 12)
    return f"{month:02d}-{rng.randint(1, 28):02d}"
