"""Where the site's files are, from a checkout and from an installed wheel.

The design keeps ``templates/``, ``static/`` and ``migrations/`` at the top of the repository, beside
``docs/``. A wheel cannot install top-level folders, so the build (``setup.py``) copies them into the
package as ``kindcity/site/``. Code asks here and never builds a path from ``__file__`` itself.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent
BUILT_SITE = PACKAGE / "site"  # only in a built wheel (setup.py's build step)


def installed() -> bool:
    """True when running from an installed wheel rather than a checkout (editable installs are checkouts)."""
    return BUILT_SITE.is_dir()


def site_path(relative: str) -> Path:
    """``templates``, ``static`` or ``migrations``: the wheel's copy, else the checkout's."""
    return (BUILT_SITE if installed() else CHECKOUT) / relative


def package_path(relative: str) -> Path:
    """A data file inside the package (``domain/matching/README.md``): the same place in a checkout and
    in a wheel (``pyproject.toml``'s package data)."""
    return PACKAGE / relative


def default_instance_path() -> str | None:
    """A checkout keeps its SQLite file, outbox and uploads in ``instance/``; an installed site has no
    checkout, so Flask's own default (``<venv>/var/kindcity-instance``) applies unless
    ``KINDCITY_INSTANCE_PATH`` names one."""
    return None if installed() else str(CHECKOUT / "instance")


def upload_folder(app) -> Path:
    """Where report photos are kept: ``KINDCITY_UPLOAD_DIR``, else ``uploads/`` in the instance folder."""
    configured = app.config.get("KINDCITY_UPLOAD_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "uploads"
