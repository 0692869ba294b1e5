"""What `condawheel install` checks before touching anything: tags, Python,
Requires-External against conda records, Requires-Dist against installed distributions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.message import Message

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from condawheel.installation.environment import CondaEnvironment, CondaRecord
from condawheel.installation.model import Check, WheelPlan
from condawheel.wheel.reader import WheelName
from condawheel.wheel.tags import subdir_for_platform_tag
from condawheel.wheel.verify import CondaIndex, parse_conda_index

_MAX_INDEX = 1 << 20
_EXTERNAL = re.compile(r"^\s*([^\s(;]+)\s*(?:\(([^)]*)\))?\s*(?:;(.*))?$")
_FLOOR = re.compile(r"^conda_(linux|macosx)_(\d+)_(\d+)_")


def check_batch(plans: Sequence[WheelPlan]) -> list[Check]:
    """Two wheels of one call installing one distribution."""
    seen: dict[str, str] = {}
    checks = []
    for plan in plans:
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
    except ValueError:  # InvalidSpecifier, or a number of over 4,300 digits
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


def wheel_providers(environment: CondaEnvironment, plans: Sequence[WheelPlan]) -> list[CondaRecord]:
    """Conda packages installed as wheels, or about to be by this call: what each
    `{dist}.dist-info/conda/index.json` names. They meet Requires-External as conda's
    own records do."""
    found = [_record(plan.conda_index) for plan in plans if plan.conda_index is not None]
    batch = {plan.name for plan in plans}
    for dist in environment.interpreter.distributions:
        if dist.path is None or canonicalize_name(dist.name) in batch:
            continue  # a wheel of this call replaces it
        index = dist.path / "conda" / "index.json"
        try:
            if index.stat().st_size > _MAX_INDEX:
                continue
            parsed = parse_conda_index(index.read_bytes())
        except OSError:
            continue
        if parsed is not None:
            found.append(_record(parsed))
    return found


def _record(index: CondaIndex) -> CondaRecord:
    return CondaRecord(
        name=index.name,
        version=index.version,
        build=index.build,
        build_number=index.build_number,
        subdir=index.subdir,
    )


def check_external(
    label: str,
    metadata: Message,
    environment: CondaEnvironment,
    wheels: Sequence[CondaRecord] = (),
) -> list[Check]:
    """Each Requires-External against conda's records, the system's virtual packages
    and ``wheels``: conda packages installed as wheels (see `wheel_providers`)."""
    checks = []
    for line in metadata.get_all("Requires-External") or []:
        found = _EXTERNAL.match(line)
        if not found:
            detail = f"cannot read Requires-External {line!r:.120}"
            checks.append(Check(wheel=label, what="requires-external", ok=False, detail=detail))
            continue
        name, spec, marker = found.group(1), (found.group(2) or "").strip(), found.group(3)
        try:
            if marker and not Marker(marker).evaluate(dict(environment.interpreter.markers)):
                continue
        except InvalidMarker:
            detail = f"Requires-External {line!r:.120} has an invalid marker"
            checks.append(Check(wheel=label, what="requires-external", ok=False, detail=detail))
            continue
        checks.append(_external(label, line, name, spec, environment, wheels))
    return checks


def _external(
    label: str,
    line: str,
    name: str,
    spec: str,
    environment: CondaEnvironment,
    wheels: Sequence[CondaRecord],
) -> Check:
    wanted = f"{name} {spec}".strip()
    try:
        matched, named = environment.matching_records(name, spec, wheels)
    except Exception as exc:  # rattler's own parse errors carry no common type
        first = (str(exc).strip().splitlines() or ["unparsable"])[0]
        detail = f"Requires-External {line!r:.120}: {first:.120}"
        return Check(wheel=label, what="requires-external", ok=False, detail=detail)
    if matched:
        as_wheel = " (installed as a wheel)" if any(m in wheels for m in matched[:1]) else ""
        detail = f"{wanted}: {matched[0].label}{as_wheel}"
        return Check(wheel=label, what="requires-external", ok=True, detail=detail)
    if name.startswith("__"):
        detail = f"needs {wanted}, which this system does not provide"
        return Check(wheel=label, what="requires-external", ok=False, detail=detail)
    as_wheels = [w for w in wheels if w.name == name]
    if as_wheels:
        # conda installing it would clobber the wheel's files: the fix is another wheel
        detail = (
            f"needs conda package {wanted} ({as_wheels[0].label} is installed as a wheel; "
            "install a wheel of a matching version)"
        )
        return Check(wheel=label, what="requires-external", ok=False, detail=detail)
    state = "a version that does not match is installed" if named else "not installed"
    detail = f"needs conda package {wanted} ({state})"
    return Check(wheel=label, what="requires-external", ok=False, detail=detail, conda_fix=wanted)


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
        except ValueError as exc:  # InvalidRequirement, or a huge number
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
