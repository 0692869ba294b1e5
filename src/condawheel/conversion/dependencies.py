"""Classify `index.json` `depends` into wheel metadata (design section 3)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from condawheel.conda.specs import ParsedSpec, external_requirement, parse_spec
from condawheel.conversion.names import NameResolver, NameSource


class DependencyKind(enum.Enum):
    PYTHON = "Requires-Python"
    PYTHON_ABI = "python_abi (confirms the ABI tag)"
    VIRTUAL = "virtual package (platform floor, Requires-External)"
    DIST = "Requires-Dist"
    EXTERNAL = "Requires-External"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    conda_spec: str
    spec: ParsedSpec
    kind: DependencyKind
    #: The metadata value (`numpy>=1.26`, `libzlib (>=1.3,<2.0a0)`, `>=3.12`).
    requirement: str
    reason: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependencies:
    items: tuple[Dependency, ...]

    def of_kind(self, kind: DependencyKind) -> list[Dependency]:
        return [d for d in self.items if d.kind is kind]

    def find(self, name: str) -> Dependency | None:
        return next((d for d in self.items if d.spec.name == name), None)

    def with_external(self, requirements: Iterable[str]) -> Dependencies:
        """Add providers found for the binaries' libraries (`name (spec)` lines)."""
        known = {d.spec.name for d in self.items}
        added = tuple(
            Dependency(
                conda_spec=line,
                spec=parse_spec(line.partition(" ")[0]),
                kind=DependencyKind.EXTERNAL,
                requirement=line,
                reason="provides a library the binaries need (found with --with)",
            )
            for line in requirements
            if line.partition(" ")[0] not in known
        )
        return Dependencies(items=(*self.items, *added)) if added else self

    def without(self, names: Iterable[str]) -> Dependencies:
        """Leave out the native dependencies named ``names`` (bundled into the wheel)."""
        dropped = frozenset(names)
        external = DependencyKind.EXTERNAL
        kept = (d for d in self.items if not (d.kind is external and d.spec.name in dropped))
        return Dependencies(items=tuple(kept))

    @property
    def requires_python(self) -> str | None:
        found = self.of_kind(DependencyKind.PYTHON)
        return found[0].requirement or None if found else None

    @property
    def requires_dist(self) -> list[str]:
        return [d.requirement for d in self.of_kind(DependencyKind.DIST)]

    @property
    def requires_external(self) -> list[str]:
        kinds = (DependencyKind.VIRTUAL, DependencyKind.EXTERNAL)
        return [d.requirement for d in self.items if d.kind in kinds]

    @property
    def warnings(self) -> list[str]:
        return [w for d in self.items for w in d.warnings]


def classify(
    depends: Iterable[str], resolver: NameResolver, *, python_package: bool
) -> Dependencies:
    """Classify each conda dependency; ``python_package`` is whether the package
    being converted installs Python code (it decides how unknown names are read)."""
    items = []
    for conda_spec in depends:
        spec = parse_spec(conda_spec)
        items.append(_classify_one(conda_spec, spec, resolver, python_package=python_package))
    return Dependencies(items=tuple(items))


def _classify_one(
    conda_spec: str, spec: ParsedSpec, resolver: NameResolver, *, python_package: bool
) -> Dependency:
    notes = (f"{conda_spec}: {spec.note}",) if spec.note else ()
    if spec.name == "python":
        return Dependency(
            conda_spec=conda_spec,
            spec=spec,
            kind=DependencyKind.PYTHON,
            requirement=spec.specifier,
            reason="the python dependency gives Requires-Python",
            warnings=notes,
        )
    if spec.name == "python_abi":
        return Dependency(
            conda_spec=conda_spec,
            spec=spec,
            kind=DependencyKind.PYTHON_ABI,
            requirement="",
            reason="python_abi pins the interpreter ABI; checked against the ABI tag",
        )
    if spec.name.startswith("__"):
        return Dependency(
            conda_spec=conda_spec,
            spec=spec,
            kind=DependencyKind.VIRTUAL,
            requirement=external_requirement(spec),
            reason="a virtual package: describes the system, gives the platform floor",
            warnings=notes,
        )
    decision = resolver.resolve(spec.name, python_package=python_package)
    if decision.pypi_name is None:
        return Dependency(
            conda_spec=conda_spec,
            spec=spec,
            kind=DependencyKind.EXTERNAL,
            requirement=external_requirement(spec),
            reason=f"not a Python distribution, according to {decision.source.value}",
            warnings=notes,
        )
    warnings = list(notes)
    if decision.source is NameSource.ASSUMED:
        warnings.append(
            f"{spec.name}: PyPI name assumed equal to the conda name; "
            "confirm it with --with or --name-map"
        )
        if decision.pypi_name != spec.name:
            warnings.append(
                f"{spec.name}: not a valid Python name, normalised to {decision.pypi_name!r}"
            )
    return Dependency(
        conda_spec=conda_spec,
        spec=spec,
        kind=DependencyKind.DIST,
        requirement=f"{decision.pypi_name}{spec.specifier}",
        reason=f"a Python distribution named {decision.pypi_name!r}, "
        f"according to {decision.source.value}",
        warnings=tuple(warnings),
    )
