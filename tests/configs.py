"""Settings dictionaries for tests that check configuration without building an app."""
from __future__ import annotations


def development_config(**extra) -> dict:
    """A development site's settings with no payment provider configured, plus ``extra``."""
    base = {"KINDCITY_ENV": "development", "KINDCITY_STRIPE_SECRET_KEY": "", "KINDCITY_BANK_HOLD_DAYS": 7,
            "KINDCITY_CARD_HOLD_MINUTES": 30, "SECRET_KEY": "x" * 40,
            "KINDCITY_BASE_URL": "https://kindcity.seogu.go.kr"}
    base.update(extra)
    return base
