"""The built-in demo data: B2B SaaS trial journeys with stories worth finding.

Deterministic (a fixed-seed numpy Generator): the same events on every machine. About 6,000 users
sign up between January and June 2026 and produce ~200k events. Stories planted in the data:

1. Onboarding loop: "Connect Data Source" -> "Connection Failed" -> "Connect Data Source" ... and many
   of those users leave right there.
2. Payment error: "Payment Failed" after "Checkout Started" hits small companies (1-10) paying by card;
   most of them never pay, some retry and succeed.
3. A segment that converts far better: the "Partner Referral" channel (~3x).
4. Retention that flattens: weekly activity of paying users falls for ~5 weeks, then levels off.
5. One event under two names: "invite_teammate" (old tracking plan, before 2026-03-01) and
   "Invite Teammates" (after).
6. A payment outage: for three weeks from 2026-04-13 most checkouts end in "Payment Failed"
   (GATEWAY_TIMEOUT), many open a support ticket, and checkout -> paid conversion collapses.
7. A loop that grows on one platform: from 2026-03-15 a mobile connector bug sends more and more
   mobile users into the connection loop (month by month), while desktop and tablet stay as they were.
8. Browsing pages that are not the problem: "Docs Page View", browsed (often several in a row) at the
   end of many usage visits by paying and non-paying users alike, so many paths end there.
9. An early behaviour that predicts success: sharing a dashboard ("Dashboard Shared") on the first day.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_GOAL = "Subscription Paid"
START = pd.Timestamp("2026-01-05", tz="UTC")
END = pd.Timestamp("2026-07-05", tz="UTC")
TRACKING_PLAN_CHANGE = pd.Timestamp("2026-03-01", tz="UTC")
PAYMENT_OUTAGE = (pd.Timestamp("2026-04-13", tz="UTC"), pd.Timestamp("2026-05-04", tz="UTC"))   # [start, end)
MOBILE_BUG_START = pd.Timestamp("2026-03-15", tz="UTC")

CHANNELS = {"Paid Search": 0.33, "Organic": 0.25, "Social Ads": 0.20, "Partner Referral": 0.10, "Webinar": 0.12}
CHANNEL_LIFT = {"Paid Search": 1.0, "Organic": 1.1, "Social Ads": 0.7, "Partner Referral": 3.0, "Webinar": 1.3}
SIZES = {"1-10": 0.30, "11-50": 0.35, "51-200": 0.22, "201-1000": 0.10, "1000+": 0.03}
INDUSTRIES = ("SaaS", "E-commerce", "Finance", "Healthcare", "Education", "Manufacturing")
PLANS = {"Starter": 49.0, "Team": 149.0, "Business": 499.0}
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass
class DemoData:
    events: pd.DataFrame   # user, event, time (UTC ms), session_id, device, page, error_code
    users: pd.DataFrame    # user, plan, company_size, industry, channel, csat, revenue, signup_date
    default_goal: str


class _Journey:
    """Collects one user's events visit by visit."""

    def __init__(self, user: str, rng: np.random.Generator, device: str):
        self.user, self.rng, self.device = user, rng, device
        self.rows: list[tuple] = []
        self.visits = 0
        self.clock = 0
        self.session = ""

    def visit(self, at_ms: int) -> None:
        self.visits += 1
        self.clock = at_ms
        self.session = f"{self.user}-s{self.visits}"

    def add(self, event: str, gap_minutes: float = 2.0, page: str | None = None,
            error_code: str | None = None) -> None:
        self.clock += int(self.rng.exponential(gap_minutes) * MINUTE) + 1000
        if self.clock < END.value // 1_000_000:
            self.rows.append((self.user, event, self.clock, self.session, self.device, page, error_code))


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    probabilities = np.array(list(weights.values()))
    return names[rng.choice(len(names), p=probabilities / probabilities.sum())]


def _acquisition(j: _Journey, channel: str) -> None:
    if channel in ("Paid Search", "Social Ads"):
        j.add("Ad Click", 0.2)
    j.add("Landing Page View", 0.5, page="/")
    if j.rng.random() < 0.55:
        j.add("Pricing Page View", 1.5, page="/pricing")
    j.add("Sign Up", 2.0, page="/signup")
    j.add("Trial Started", 0.3)


def _onboarding(j: _Journey, invite_name: str) -> tuple[bool, bool]:
    """Returns (still engaged, looped on the data-source connection)."""
    rng = j.rng
    j.add("Create Workspace", 3.0)
    if rng.random() < 0.08:
        return False, False
    j.add("Connect Data Source", 4.0)
    looped = rng.random() < _connection_loop_chance(j)
    if looped:
        for _ in range(int(rng.integers(2, 6))):
            j.add("Connection Failed", 1.0, error_code=str(rng.choice(["AUTH_401", "TIMEOUT", "SSL"])))
            if rng.random() < 0.3:
                j.add("Help Article Viewed", 2.0, page="/help/connectors")
            j.add("Connect Data Source", 3.0)
        if rng.random() < 0.62:
            return False, True                              # gave up right there
        if rng.random() < 0.4:
            j.add("Support Ticket Opened", 5.0)
    j.add("Connection Succeeded", 1.0)
    if rng.random() < 0.55:
        j.add(invite_name, 2.0)
    j.add("Build First Dashboard", 6.0)
    return rng.random() < 0.85, looped


def _connection_loop_chance(j: _Journey) -> float:
    """Story 6: the chance of the connection loop; on mobile it grows month by month after the bug."""
    base = 0.38
    since_bug = j.clock - MOBILE_BUG_START.value // 1_000_000
    if j.device != "mobile" or since_bug < 0:
        return base
    return min(0.85, base + 0.15 * (1 + since_bug / (30 * DAY)))


def _browse_docs(j: _Journey) -> None:
    """Story 7: docs browsing at the end of a usage visit (everyone does it; many visits end there)."""
    if j.rng.random() < 0.45:
        for _ in range(int(j.rng.integers(1, 4))):
            j.add("Docs Page View", 1.5, page="/docs")


def _conversion_probability(channel: str, size: str, reached_aha: bool, looped: bool) -> float:
    base = 0.30 if reached_aha else 0.05
    size_lift = {"1-10": 0.8, "11-50": 1.0, "51-200": 1.25, "201-1000": 1.2, "1000+": 1.0}[size]
    return min(0.95, base * CHANNEL_LIFT[channel] * size_lift * (0.7 if looped else 1.0))


def _checkout(j: _Journey, size: str) -> bool:
    """Checkout with the payment error story; returns whether the user paid."""
    rng = j.rng
    during_outage = _payment_outage(j)
    if during_outage is not None:
        return during_outage
    j.add("Checkout Started", 3.0, page="/checkout")
    card_failure = size == "1-10" and rng.random() < 0.55
    if card_failure:
        j.add("Payment Failed", 0.5, error_code="CARD_DECLINED")
        if rng.random() < 0.65:
            return False
        j.add("Checkout Started", 4.0, page="/checkout")
    j.add(DEFAULT_GOAL, 1.0)
    return True


def _payment_outage(j: _Journey) -> bool | None:
    """Story 6: a checkout during the payment outage; None outside it (the usual checkout applies).
    Returns whether the user paid."""
    start, end = (stamp.value // 1_000_000 for stamp in PAYMENT_OUTAGE)
    if not start <= j.clock < end:
        return None
    rng = j.rng
    j.add("Checkout Started", 3.0, page="/checkout")
    if rng.random() < 0.75:
        j.add("Payment Failed", 0.5, error_code="GATEWAY_TIMEOUT")
        if rng.random() < 0.5:
            j.add("Support Ticket Opened", 4.0)
        if rng.random() < 0.8:
            return False
        j.add("Checkout Started", 10.0, page="/checkout")
    j.add(DEFAULT_GOAL, 1.0)
    return True


def _usage(j: _Journey, paid: bool, start_ms: int, plan: str) -> int:
    """Weekly visits after the trial; returns months of paid usage (for revenue)."""
    rng = j.rng
    end_ms = END.value // 1_000_000
    months_paid = 1 if paid else 0
    week = 1
    while start_ms + week * 7 * DAY < end_ms:
        # Paying users: decline for ~5 weeks, then a plateau near 30%; others fade out.
        p_active = 0.30 + 0.55 * np.exp(-week / 2.2) if paid else 0.45 * np.exp(-week / 1.5)
        if rng.random() < p_active:
            j.visit(start_ms + week * 7 * DAY + int(rng.integers(0, 6 * DAY)))
            j.add("Login", 1.0)
            for _ in range(int(rng.integers(1, 4))):
                j.add("View Dashboard", 4.0)
            if rng.random() < 0.3:
                j.add("Dashboard Shared", 3.0)
            if rng.random() < 0.2:
                j.add("Export Report", 2.0)
            if rng.random() < 0.05:
                j.add("Help Article Viewed", 2.0, page="/help")
            _browse_docs(j)
            if paid and week % 4 == 0:
                j.add("Subscription Renewed", 0.5)
                months_paid += 1
                if plan != "Business" and rng.random() < 0.12:
                    j.add("Plan Upgraded", 1.0)
        week += 1
    return months_paid


def _one_user(index: int, rng: np.random.Generator) -> tuple[list[tuple], dict]:
    user = f"u{index:05d}"
    channel, size = _pick(rng, CHANNELS), _pick(rng, SIZES)
    industry = INDUSTRIES[int(rng.integers(len(INDUSTRIES)))]
    signup = START.value // 1_000_000 + int(rng.integers(0, 151 * DAY))
    j = _Journey(user, rng, device=str(rng.choice(["desktop", "desktop", "desktop", "mobile", "tablet"])))
    j.visit(signup)
    _acquisition(j, channel)
    invite_name = "invite_teammate" if signup < TRACKING_PLAN_CHANGE.value // 1_000_000 else "Invite Teammates"
    engaged, looped = _onboarding(j, invite_name)
    paid, months, plan = False, 0, "Trial"
    if engaged:
        j.add("Dashboard Shared", 10.0)                 # the "aha" action
        j.visit(j.clock + int(rng.integers(1, 10)) * DAY)
        j.add("Login", 1.0)
        j.add("View Dashboard", 3.0)
        if rng.random() < _conversion_probability(channel, size, True, looped):
            plan = _pick(rng, {"Starter": 0.5, "Team": 0.35, "Business": 0.15})
            paid = _checkout(j, size)
            if not paid:
                plan = "Trial"
    elif not looped and rng.random() < _conversion_probability(channel, size, False, looped):
        plan = "Starter"
        paid = _checkout(j, size)
        plan = plan if paid else "Trial"
    months = _usage(j, paid, j.clock, plan) if (paid or engaged) else 0
    csat = int(np.clip(rng.normal(8.2 if paid else (4.5 if looped else 6.3), 1.3), 1, 10))
    revenue = round(PLANS.get(plan, 0.0) * months, 2) if paid else 0.0
    profile = {"user": user, "plan": plan, "company_size": size, "industry": industry, "channel": channel,
               "csat": csat, "revenue": revenue,
               "signup_date": pd.Timestamp(signup, unit="ms", tz="UTC").date().isoformat()}
    return j.rows, profile


def generate_demo(n_users: int = 6000, seed: int = 20260105) -> DemoData:
    """The demo events and user table (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    profiles = []
    for index in range(1, n_users + 1):
        user_rows, profile = _one_user(index, rng)
        rows.extend(user_rows)
        profiles.append(profile)
    events = pd.DataFrame(rows, columns=["user", "event", "time", "session_id", "device", "page", "error_code"])
    events = events.sort_values("time", kind="stable", ignore_index=True)   # exports come in time order
    users = pd.DataFrame(profiles)
    users = users[users["user"].isin(events["user"].unique())].reset_index(drop=True)
    return DemoData(events=events, users=users, default_goal=DEFAULT_GOAL)
