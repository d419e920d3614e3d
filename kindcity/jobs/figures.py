"""The district's figures, counted again (kindcity/services/figures.py says when and why)."""
from __future__ import annotations

from . import job


@job("figures.refresh")
def refresh() -> str:
    """Count /impact's, the donor wall's and the home page's figures and store them."""
    from ..services.figures import refresh as count

    return count().isoformat()
