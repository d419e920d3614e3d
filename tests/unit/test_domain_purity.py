"""The written purity rule of kindcity/domain: no framework, no I/O."""
import ast
from pathlib import Path

import kindcity.domain

FORBIDDEN = {"flask", "flask_login", "flask_sqlalchemy", "flask_babel", "sqlalchemy", "stripe", "requests",
             "psycopg", "socket", "subprocess", "urllib", "http", "os", "pathlib", "open"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            names.add("open")
    return names


def test_domain_imports_no_framework_and_does_no_io():
    folder = Path(kindcity.domain.__file__).parent
    files = sorted(folder.rglob("*.py"))  # packages too (domain/matching/)
    assert len(files) >= 5 and folder / "matching" / "engine.py" in files
    offenders = {str(p.relative_to(folder)): sorted(_imports(p) & FORBIDDEN) for p in files if _imports(p) & FORBIDDEN}
    assert offenders == {}
