"""Each outside service's SDK is imported by exactly one module, its provider: the rest of the site
talks to the provider's interface, so a provider can be swapped or faked without touching services."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kindcity

ROOT = Path(kindcity.__file__).parent


def _importers(package: str) -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            if any(name.split(".")[0] == package for name in names):
                found.add(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize("package, provider", [
    ("stripe", "payments/stripe_provider.py"),
    ("portone_server_sdk", "payments/portone_provider.py"),
    ("solapi", "sms/solapi_provider.py"),
])
def test_exactly_one_module_imports_each_sdk(package, provider):
    assert _importers(package) == {provider}


def test_the_scan_sees_an_import():
    """The check above could pass by finding nothing: flask is imported in many places."""
    assert len(_importers("flask")) > 5
