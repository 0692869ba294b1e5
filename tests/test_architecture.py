"""The import rules between condawheel's packages, and no cycles, hidden ones included.

Every import of a condawheel module counts: at module level, inside functions and under
``TYPE_CHECKING``, since each of them ties the modules together as much as any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "condawheel"

#: What each package may import besides itself and the core modules at the top
#: (exceptions, config, defaults, atomic, quoting, stale, streams). Data flows one way:
#: conda -> libraries -> conversion -> building, with wheel and binaries beneath, and the CLI
#: (and the PEP 517 backend, the API's lazy face, `python -m`) above everything.
ALLOWED: Mapping[str, frozenset[str]] = {
    "binaries": frozenset(),
    "conda": frozenset(),
    "wheel": frozenset({"binaries"}),
    "libraries": frozenset({"binaries", "conda"}),
    "conversion": frozenset({"libraries", "wheel", "binaries", "conda"}),
    "installation": frozenset({"wheel"}),
    "publishing": frozenset({"wheel"}),
    "building": frozenset({"conversion", "conda", "wheel"}),
    # A mirror reads a channel (conda), converts its builds (conversion) and indexes the
    # wheels (publishing): it orchestrates those below it, and nothing but the CLI and
    # the API import it.
    "mirroring": frozenset({"conversion", "conda", "publishing", "wheel"}),
}
#: Modules at the top that stand above the packages rather than beneath them.
OUTER = frozenset({"cli", "backend", "__main__", "__init__"})


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: frozenset[str], root: Path) -> Iterator[str]:
    """The condawheel modules that ``path`` imports, wherever in the file. For
    ``from package import module`` that is the module alone: a package's ``__init__`` is
    imported with each of its modules, which makes no edge of its own."""
    me = _module_name(path, root)
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "condawheel":
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != "condawheel":
                continue
            submodules = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known]
            yield from submodules
            if len(submodules) < len(node.names):
                yield module


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    files = sorted(root.rglob("*.py"))
    known = frozenset(_module_name(f, root) for f in files)
    graph = {}
    for file in files:
        me = _module_name(file, root)
        graph[me] = {m for m in _imports(file, known, root) if m in known and m != me}
    return graph


def _area(module: str) -> str:
    """The package a module belongs to; "core" for the plain modules at the top; the
    module's own name for those above everything (OUTER)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    if parts[1] in ALLOWED or parts[1] in OUTER or parts[1] == "resources":
        return parts[1]
    return "core"


def rule_breaks(graph: Mapping[str, set[str]]) -> list[str]:
    breaks = []
    for module, imported in sorted(graph.items()):
        area = _area(module)
        if area in OUTER:
            continue
        allowed = {area, "core", *ALLOWED.get(area, ())}
        for target in sorted(imported):
            other = _area(target)
            if other not in allowed:
                breaks.append(f"{module} -> {target}: {area} may not import {other}")
    return breaks


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            # A package's __init__ is imported with each of its modules: not an edge back.
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_packages_import_one_way() -> None:
    assert rule_breaks(import_graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_every_module_belongs_to_a_known_area() -> None:
    areas = {_area(m) for m in import_graph()}
    assert areas <= set(ALLOWED) | OUTER | {"core", "resources"}


def _copy_package(tmp_path: Path) -> Path:
    copy = tmp_path / "condawheel"
    for source in PACKAGE.rglob("*.py"):
        target = copy / source.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return copy


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("conda/package.py", "from condawheel.wheel.writer import WheelWriter", "rule"),
        ("installation/core.py", "from condawheel.conversion.core import convert", "rule"),
        ("wheel/reader.py", "from condawheel.installation.core import install", "rule"),
        ("conversion/plan.py", "from condawheel.conversion.core import convert", "cycle"),
    ],
)
def test_a_broken_rule_is_caught(tmp_path: Path, module: str, line: str, broken: str) -> None:
    """The checks fail when a rule is broken, even by an import inside a function."""
    copy = _copy_package(tmp_path)
    target = copy / module
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _late() -> None:\n    {line}  # noqa\n"
    )
    graph = import_graph(copy)
    if broken == "rule":
        assert rule_breaks(graph)
    else:
        assert cycles(graph)
    assert rule_breaks(import_graph(_copy_package(tmp_path / "clean"))) == []
