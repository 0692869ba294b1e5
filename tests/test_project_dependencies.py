"""pyproject.toml's `dependencies` cover what `pip install condawheel` must bring.

Every third-party module imported anywhere under src/ (at module level or inside a
function, as lazily imported command modules do) must come from a distribution named in
`dependencies`, not only from the `test` extra or by chance through another package.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from collections.abc import Iterator

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from paths import REPO

ROOT = REPO
SOURCE = ROOT / "src" / "condawheel"


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (Requirement(text) for text in project["dependencies"])
    return {canonicalize_name(req.name): req for req in requirements}


def _top_level(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [] if node.level or node.module is None else [node.module.split(".")[0]]
    return [alias.name.split(".")[0] for alias in node.names]


def _imports(tree: ast.AST) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line, alternatives): one module name, or those of a try/except ImportError chain,
    any of which is enough (``compression.zstd`` on 3.14, else ``backports.zstd``)."""
    grouped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in {"ImportError", "ModuleNotFoundError"}
            for h in node.handlers
        ):
            parts = [*node.body, *(stmt for h in node.handlers for stmt in h.body)]
            found = [n for n in parts if isinstance(n, ast.Import | ast.ImportFrom)]
            grouped.update(id(n) for n in found)
            if found:
                yield found[0].lineno, tuple(m for n in found for m in _top_level(n))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in grouped:
            for module in _top_level(node):
                yield node.lineno, (module,)


def _third_party(alternatives: tuple[str, ...]) -> bool:
    return not any(m in sys.stdlib_module_names or m == "condawheel" for m in alternatives)


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = _declared()
    providers = importlib.metadata.packages_distributions()
    uncovered: list[str] = []
    seen = 0
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, alternatives in _imports(tree):
            if not _third_party(alternatives):
                continue
            seen += 1
            dists = {canonicalize_name(d) for m in alternatives for d in providers.get(m, [])}
            if not dists & declared.keys():
                where = f"{path.relative_to(ROOT)}:{line}"
                uncovered.append(f"{where} imports {'/'.join(alternatives)} (from {dists})")
    assert seen > 20  # the walk found the imports: lief, rattler, twine, ...
    assert not uncovered, "not in [project] dependencies:\n" + "\n".join(uncovered)


def test_build_and_install_by_name_needs_are_declared() -> None:
    """Needs that no import shows: rattler-build is imported lazily by `build`, and
    `install NAME` runs pip as a subprocess (its floor: test_pip_report.py)."""
    declared = _declared()
    assert "py-rattler-build" in declared
    assert not declared["pip"].specifier.contains("23.2.1")  # what `python3.11 -m venv` seeds
