"""A small e-commerce-like log for testing the insight methods on a shape the demo does not have.

Everyone browses (catalog / product_view loops, and leaves from product pages); buyers go through a
fixed checkout route (add_to_cart → cart → checkout → shipping_form → payment_details → purchase).
One real stuck point: shipping_form, where many shoppers retry and give up. One early behaviour that
predicts buying: wishlist_add in the first days (it doubles the chance of a buying visit).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from journey_explorer.eventlog import EventLog

MINUTE = 60_000
DAY = 86_400_000
START = 1_704_067_200_000          # 2024-01-01


class _Shopper:
    """Collects one shopper's rows visit by visit."""

    def __init__(self, user: str, rng: np.random.Generator, rows: list):
        self.user, self.rng, self.rows = user, rng, rows
        self.clock = START + int(rng.integers(0, 60 * DAY))
        self.session = ""

    def add(self, event: str, gap: float = 1.0) -> None:
        self.clock += int(self.rng.exponential(gap) * MINUTE) + 1000
        self.rows.append((self.user, event, self.clock, self.session))


def shop_frame(users: int = 1500, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    for index in range(users):
        shopper = _Shopper(f"s{index:04d}", rng, rows)
        add = shopper.add
        wishes = rng.random() < 0.3
        visits = int(rng.integers(1, 5))
        for visit in range(visits):
            shopper.session = f"{shopper.user}-{visit}"
            add("home")
            for _ in range(int(rng.integers(1, 4))):          # browsing loops everyone does
                add("catalog")
                for _ in range(int(rng.integers(1, 4))):
                    add("product_view")
            if wishes and visit == 0:
                add("wishlist_add")
            if rng.random() < (0.45 if wishes else 0.2):
                _checkout(add, rng)
            elif rng.random() < 0.5:
                add("product_view")                            # leave from a product page
            shopper.clock += int(rng.integers(1, 8)) * DAY
    return pd.DataFrame(rows, columns=["user", "event", "time", "session"])


def _checkout(add, rng) -> None:
    add("add_to_cart")
    add("cart")
    add("checkout")
    add("shipping_form", 2.0)
    if rng.random() < 0.5:                                     # the stuck point: retries, then most leave
        for _ in range(int(rng.integers(1, 3))):
            add("shipping_error", 0.5)
            add("shipping_form", 3.0)
        if rng.random() < 0.8:
            return
    add("payment_details")
    add("purchase")
    if rng.random() < 0.5:
        add("product_view")                                    # successful shoppers browse on and leave too


def shop_log(users: int = 1500, seed: int = 1) -> EventLog:
    return EventLog.from_frame(shop_frame(users, seed))
