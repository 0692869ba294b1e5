"""What `condawheel install` checks before touching anything: tags, Python,
Requires-External against conda records, Requires-Dist against installed distributions."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from condawheel.environment import CondaEnvironment
from condawheel.tags import subdir_for_platform_tag
from condawheel.wheelfile import WheelName

if TYPE_CHECKING:  # install imports this module
    from condawheel.install import WheelPlan

_EXTERNAL = re.compile(r"^\s*([^\s(;]+)\s*(?:\(([^)]*)\))?\s*(?:;(.*))?$")
_FLOOR = re.compile(r"^conda_(linux|macosx)_(\d+)_(\d+)_")


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One thing checked before installing, and its verdict."""

    #: The wheel's file name, or "" for a check of the environment.
    wheel: str
    what: str
    ok: bool
    detail: str
    #: What fixes it: a conda spec (`conda install`) or a requirement (`pip install`).
    conda_fix: str | None = None
    pip_fix: str | None = None


def check_batch(plans: Sequence[WheelPlan]) -> list[Check]:
    seen: dict[str, str] = {}
    written: dict[str, str] = {}
    checks = []
    for plan in plans:
        for path in plan.destinations.values():
            other = written.setdefault(os.path.normpath(path), plan.wheel.name)
            if other != plan.wheel.name and plan.name not in seen:
                detail = f"{path} is also written by {other}; install them separately"
                checks.append(Check(wheel=plan.wheel.name, what="files", ok=False, detail=detail))
                break
        if plan.name in seen:
            checks.append(
                Check(
                    wheel=plan.wheel.name,
                    what="distribution",
                    ok=False,
                    detail=f"{plan.name} is also installed by {seen[plan.name]}; give one wheel",
                )
            )
        seen[plan.name] = plan.wheel.name
    return checks


def check_tags(label: str, name: WheelName, environment: CondaEnvironment) -> Check:
    supported = set(environment.supported_tags())
    fitting = sorted(str(t) for t in name.tags & supported)
    if fitting:
        return Check(wheel=label, what="tags", ok=True, detail=f"tag {fitting[0]} fits")
    pairs = {(t.interpreter, t.abi) for t in supported}
    platforms = {t.platform for t in supported}
    reasons = []
    if not any((t.interpreter, t.abi) in pairs for t in name.tags):
        interpreter = environment.interpreter
        flavour = "t" if interpreter.free_threading else ""
        reasons.append(
            f"built for {name.python}-{name.abi}, but the environment's Python is "
            f"{interpreter.implementation} {interpreter.short_version}{flavour}"
        )
    if not any(t.platform in platforms for t in name.tags):
        reasons.extend(_platform_reason(p, environment) for p in name.platforms)
    detail = "; ".join(reasons) or f"no tag of {name.python}-{name.abi}-... fits this environment"
    return Check(wheel=label, what="tags", ok=False, detail=detail)


def _platform_reason(platform: str, environment: CondaEnvironment) -> str:
    if not platform.startswith("conda_"):
        return (
            f"platform {platform}: this is not a conda-tagged wheel; install it with pip "
            "(or convert the conda package with condawheel convert)"
        )
    subdir = subdir_for_platform_tag(platform)
    if subdir != environment.subdir:
        return (
            f"built for {subdir or platform} ({platform}), this environment is {environment.subdir}"
        )
    floor = _FLOOR.match(platform)
    if floor:
        system = "glibc" if floor.group(1) == "linux" else "macOS"
        have = environment.glibc if system == "glibc" else environment.macos
        has = f"{have[0]}.{have[1]}" if have else "none"
        return (
            f"needs {system} {floor.group(2)}.{floor.group(3)} or newer ({platform}), "
            f"this system has {has}"
        )
    return f"platform {platform} does not fit this environment ({environment.subdir})"


def check_python(label: str, metadata: Message, environment: CondaEnvironment) -> list[Check]:
    requires = metadata.get("Requires-Python")
    if not requires:
        return []
    version = environment.interpreter.markers["python_full_version"]
    try:
        ok = SpecifierSet(requires).contains(version, prereleases=True)
    except InvalidSpecifier:
        return [
            Check(
                wheel=label,
                what="requires-python",
                ok=False,
                detail=f"Requires-Python {requires!r} is invalid",
            )
        ]
    return [
        Check(
            wheel=label,
            what="requires-python",
            ok=ok,
            detail=f"Requires-Python {requires}: the environment's Python is {version}",
        )
    ]


def check_external(label: str, metadata: Message, environment: CondaEnvironment) -> list[Check]:
    checks = []
    for line in metadata.get_all("Requires-External") or []:
        found = _EXTERNAL.match(line)
        if not found:
            checks.append(
                Check(
                    wheel=label,
                    what="requires-external",
                    ok=False,
                    detail=f"cannot read Requires-External {line!r}",
                )
            )
            continue
        name, spec, marker = found.group(1), (found.group(2) or "").strip(), found.group(3)
        try:
            if marker and not Marker(marker).evaluate(dict(environment.interpreter.markers)):
                continue
        except InvalidMarker:
            detail = f"Requires-External {line!r} has an invalid marker"
            checks.append(Check(wheel=label, what="requires-external", ok=False, detail=detail))
            continue
        wanted = f"{name} {spec}".strip()
        try:
            matched, named = environment.matching_records(name, spec)
        except Exception as exc:  # rattler's own parse errors carry no common type
            first = (str(exc).strip().splitlines() or ["unparsable"])[0]
            checks.append(
                Check(
                    wheel=label,
                    what="requires-external",
                    ok=False,
                    detail=f"Requires-External {line!r}: {first}",
                )
            )
            continue
        if matched:
            detail = f"{wanted}: {matched[0].label}"
            checks.append(Check(wheel=label, what="requires-external", ok=True, detail=detail))
        elif name.startswith("__"):
            detail = f"needs {wanted}, which this system does not provide"
            checks.append(Check(wheel=label, what="requires-external", ok=False, detail=detail))
        else:
            state = "a version that does not match is installed" if named else "not installed"
            detail = f"needs conda package {wanted} ({state})"
            checks.append(
                Check(
                    wheel=label, what="requires-external", ok=False, detail=detail, conda_fix=wanted
                )
            )
    return checks


def check_dist(
    label: str, metadata: Message, environment: CondaEnvironment, batch: Mapping[str, str]
) -> list[Check]:
    available: dict[str, str] = {
        canonicalize_name(d.name): d.version
        for d in reversed(environment.interpreter.distributions)
    }
    available.update(batch)
    markers = {**environment.interpreter.markers, "extra": ""}
    checks = []
    for line in metadata.get_all("Requires-Dist") or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            checks.append(
                Check(
                    wheel=label,
                    what="requires-dist",
                    ok=False,
                    detail=f"invalid Requires-Dist {line!r}: {exc}",
                )
            )
            continue
        if requirement.marker and not requirement.marker.evaluate(markers):
            continue
        version = available.get(canonicalize_name(requirement.name))
        ok = version is not None and requirement.specifier.contains(version, prereleases=True)
        if ok:
            detail = f"{requirement}: {requirement.name} {version}"
            checks.append(Check(wheel=label, what="requires-dist", ok=True, detail=detail))
            continue
        state = f"{version} is installed" if version else "not installed"
        requirement.marker = None
        checks.append(
            Check(
                wheel=label,
                what="requires-dist",
                ok=False,
                detail=f"needs Python distribution {requirement} ({state})",
                pip_fix=str(requirement),
            )
        )
    return checks
