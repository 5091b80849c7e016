"""ARCHITECTURE.md stays true to the code: every module in its diagram, no import up a layer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import tap_auth0_userlogs

PACKAGE = Path(tap_auth0_userlogs.__file__).parent
DOC = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


def layers() -> dict[str, int]:
    """`path` or `folder/` -> its layer's number, from the table under "## Layers"."""
    table = DOC.split("## Layers", 1)[1].split("\n## ", 1)[0]
    found = {}
    for number, cell in re.findall(r"^\|\s*(\d+)\.[^|]*\|([^|]*)\|", table, re.MULTILINE):
        for place in re.findall(r"`([^`]+)`", cell):
            found[place] = int(number)
    return found


def layer_of(module: str, table: dict[str, int]) -> int:
    """The layer of a module path such as `auth0/api.py`."""
    if module in table:
        return table[module]
    if module == "__init__.py":
        return min(table.values())  # the package's face: it must import none of the package
    folder = module.split("/", 1)[0] + "/"
    if "/" in module and folder in table:
        return table[folder]
    raise AssertionError(f"ARCHITECTURE.md's layers table does not place {module}")


def imported_modules(module: str) -> list[tuple[int, str]]:
    """(line, module path) of every package module `module` imports, TYPE_CHECKING included."""
    found = []
    for node in ast.walk(ast.parse((PACKAGE / module).read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module + "." + alias.name for alias in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            path = _module_path(name)
            if path is not None:
                found.append((node.lineno, path))
                break
    return found


def _module_path(dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[0] != "tap_auth0_userlogs":
        return None
    relative = "/".join(parts[1:])
    for candidate in (f"{relative}.py", f"{relative}/__init__.py"):
        if relative and (PACKAGE / candidate).is_file():
            return candidate
    return None


@pytest.mark.parametrize("module", MODULES)
def test_no_module_imports_from_a_higher_layer(module):
    table = layers()
    own = layer_of(module, table)

    upward = [
        f"{module}:{line} imports {target} (layer {layer_of(target, table)} > {own})"
        for line, target in imported_modules(module)
        if layer_of(target, table) > own
    ]
    assert upward == []


def test_every_module_is_in_the_diagram_once_in_its_folder():
    diagram = DOC.split("```mermaid", 1)[1].split("```", 1)[0]
    blocks = {
        folder: body
        for folder, body in re.findall(
            r'subgraph \w+\["(?:tap_auth0_userlogs/)?([\w/]*)"\](.*?)\n    end', diagram, re.S
        )
    }
    missing = []
    for module in MODULES:
        folder, _, name = module.rpartition("/")
        if name == "__init__.py":
            continue
        label = f'"{name}<br/>'
        body = blocks.get(f"{folder}/" if folder else "", "")
        if body.count(label) != 1 or diagram.count(label) != 1:
            missing.append(module)
    assert missing == []
