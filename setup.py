"""The build step of the wheel (all metadata is in pyproject.toml).

``templates/``, ``static/`` and ``migrations/`` stay at the top of the
repository, where the design puts them; the wheel carries them inside the package as
``kindcity/site/`` (``kindcity/paths.py`` finds either). The Korean and English catalogues are
compiled here from their ``.po`` sources, so a release never ships stale or missing ``.mo`` files and
the repository never holds a second, compiled copy of the translations.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SITE_FILES = ("templates", "static", "migrations")


class build_py_with_site(build_py):  # noqa: N801 - setuptools' command naming
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout itself
        package = Path(self.build_lib) / "kindcity"
        site = package / "site"
        shutil.rmtree(site, ignore_errors=True)
        for relative in SITE_FILES:
            source, target = HERE / relative, site / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, target)
        compile_catalogues(HERE / "kindcity" / "translations", package / "translations")


def compile_catalogues(source: Path, target: Path) -> None:
    """Every ``<locale>/LC_MESSAGES/messages.po`` to its ``.mo``, as ``make translations`` does
    (fuzzy entries included, like ``pybabel compile --use-fuzzy``)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalogues = sorted(source.glob("*/LC_MESSAGES/messages.po"))
    if not catalogues:
        raise SystemExit(f"no catalogues under {source}")
    for po in catalogues:
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=po.parent.parent.name)
        with mo.open("wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=True)


setup(cmdclass={"build_py": build_py_with_site})
