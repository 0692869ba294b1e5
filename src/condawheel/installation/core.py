"""`install()`: conda-tagged wheels into a conda environment, all or nothing.

`plan_install()` reads the wheels, verifies them whole (`install_read`), and checks
them and every place they would write or remove against the environment without
changing anything (`install_checks`, `install_paths`), collecting every problem;
`install()` carries out a plan that has none (`install_apply`) under the prefix's lock,
in a journaled transaction that puts the environment back on any failure, or at the
next run after a kill.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from email.message import Message
from pathlib import Path

from installer.exceptions import InstallerError

from condawheel.exceptions import BadInputError, CondawheelError
from condawheel.installation.apply import install_wheel
from condawheel.installation.checks import (
    check_batch,
    check_dist,
    check_external,
    check_python,
    check_tags,
    wheel_providers,
)
from condawheel.installation.environment import CondaEnvironment
from condawheel.installation.interpreter import Distribution
from condawheel.installation.lock import prefix_lock
from condawheel.installation.model import (
    Check,
    InstallOptions,
    InstallPlan,
    InstallResult,
    WheelPlan,
)
from condawheel.installation.paths import Destination, PrefixGuard, clashes
from condawheel.installation.transaction import RollbackError, Transaction, recover
from condawheel.wheel.reader import WheelInput
from condawheel.wheel.record import RecordError, parse_rows
from condawheel.wheel.verify import read_verified

__all__ = ["InstallOptions", "InstallPlan", "InstallResult", "WheelPlan", "install", "plan_install"]

logger = logging.getLogger(__name__)


def plan_install(
    wheels: Sequence[Path], environment: CondaEnvironment, options: InstallOptions | None = None
) -> InstallPlan:
    """Read the wheels and check them against ``environment``; changes nothing.

    Unreadable or inconsistent wheels raise; every other problem becomes a failed
    `Check` in the plan."""
    options = options or InstallOptions()
    checks: list[Check] = []
    marker = environment.externally_managed
    if marker is not None:
        checks.append(
            Check(
                wheel="",
                what="externally-managed",
                ok=options.break_system_packages,
                detail=f"{environment.prefix} is externally managed (PEP 668: {marker}); "
                "install with conda instead, or pass --break-system-packages to install anyway",
            )
        )
    guard = _guard(environment)
    free = _free_bytes(environment.prefix)
    read = []
    for path in wheels:  # the wheels of the call must fit together
        plan, metadata, size = _read_wheel(path, environment, free)
        read.append((plan, metadata))
        free = None if free is None else max(0, free - size)
    plans = [plan for plan, _ in read]
    checks.extend(check_batch(plans))
    batch = {plan.name: plan.version for plan in plans}
    providers = wheel_providers(environment, plans)
    for plan, metadata in read:
        label = plan.wheel.name
        tags = check_tags(label, plan.filename, environment)
        checks.append(tags)
        checks.extend(check_python(label, metadata, environment))
        # a wheel that cannot go in anyway needs no advice on its dependencies
        if tags.ok and not options.no_deps:
            checks.extend(check_external(label, metadata, environment, providers))
            checks.extend(check_dist(label, metadata, environment, batch))
    placed = []
    for plan in plans:
        plan, found = _place(plan, environment, guard)
        placed.append(plan)
        checks.extend(found)
    checks.extend(_clashes(guard, placed))
    return InstallPlan(environment=environment, wheels=tuple(placed), checks=tuple(checks))


def install(plan: InstallPlan) -> InstallResult:
    """Carry out ``plan``: all of it, or, on any failure, nothing (the error is raised).

    The prefix is locked for the duration (a caller that planned under the lock keeps
    it); an interrupted installation found first means the plan is stale, and is an
    error after it has been rolled back."""
    if plan.problems:
        raise plan.error()
    environment = plan.environment
    rewritten: list[Path] = []
    with prefix_lock(environment.prefix):
        recovered = recover(environment.prefix)
        if recovered is not None:
            raise BadInputError(
                f"an interrupted installation into {environment.prefix} was rolled back "
                "first; check and install again"
            )
        try:
            with Transaction(environment.prefix) as transaction:
                for wheel in plan.wheels:
                    rewritten.extend(install_wheel(wheel, transaction, environment))
                    logger.info(
                        "installed %s %s into %s", wheel.name, wheel.version, environment.prefix
                    )
        except RollbackError:
            raise
        except CondawheelError as exc:
            raise type(exc)(f"{exc}; the environment was left as it was") from None
        except (OSError, InstallerError, ValueError) as exc:
            raise BadInputError(
                f"installation failed: {exc}; the environment was left as it was"
            ) from None
    return InstallResult(plan=plan, rewritten=tuple(rewritten))


# -- reading a wheel -----------------------------------------------------------


def _read_wheel(
    path: Path, environment: CondaEnvironment, free: int | None
) -> tuple[WheelPlan, Message, int]:
    with WheelInput(path) as wheel:
        verified = read_verified(wheel, free_bytes=free)
        dist_info, members, filename = wheel.dist_info, set(wheel.names), wheel.name
    scheme = _scheme(environment, verified.display_name)
    root = scheme["purelib" if verified.purelib else "platlib"]
    destinations = _destinations(path.name, members, dist_info, root, scheme)
    suffix = ".exe" if environment.interpreter.is_windows else ""
    for script in verified.scripts:
        destinations[f"(script) {script}{suffix}"] = scheme["scripts"] / f"{script}{suffix}"
    for extra in ("INSTALLER", "REQUESTED", "RECORD"):
        destinations[f"{dist_info}/{extra}"] = root / dist_info / extra
    for entry in verified.placeholders:
        if entry.path not in destinations:
            raise BadInputError(
                f"{path.name}: conda/prefix.json lists {entry.path!r:.120}, which the wheel lacks"
            )
    plan = WheelPlan(
        wheel=path,
        filename=filename,
        name=verified.name,
        version=verified.version,
        dist_info=dist_info,
        root=root,
        scheme=scheme,
        destinations=destinations,
        placeholders=verified.placeholders,
        conda_index=verified.conda_index,
    )
    return plan, verified.metadata, verified.size


def _scheme(environment: CondaEnvironment, dist_name: str) -> dict[str, Path]:
    interpreter = environment.interpreter
    paths = interpreter.paths
    if interpreter.in_venv:  # where pip puts headers in a venv, inside the prefix
        headers = environment.prefix / "include" / "site" / f"python{interpreter.short_version}"
    else:
        headers = paths["include"]
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "headers": headers / dist_name,
        "data": environment.prefix,
    }


def _destinations(
    label: str, members: Iterable[str], dist_info: str, root: Path, scheme: Mapping[str, Path]
) -> dict[str, Path]:
    data_dir = dist_info.removesuffix(".dist-info") + ".data"
    found: dict[str, Path] = {}
    for member in sorted(members):
        if "__pycache__" in member.split("/")[:-1] or member == f"{dist_info}/RECORD":
            continue  # installer skips the first and writes the second itself
        if member.startswith(f"{data_dir}/"):
            parts = member.split("/", 2)
            if len(parts) < 3 or parts[1] not in scheme or not parts[2]:
                raise BadInputError(
                    f"{label}: member {member!r:.120} is not in a valid .data subdirectory "
                    f"({', '.join(scheme)})"
                )
            found[member] = scheme[parts[1]] / parts[2]
        else:
            found[member] = root / member
    return found


# -- checks --------------------------------------------------------------------


def _guard(environment: CondaEnvironment) -> PrefixGuard:
    owners = {path: r.label for r in environment.records for path in r.files}
    return PrefixGuard.of(environment.prefix, owners)


def _free_bytes(prefix: Path) -> int | None:
    try:
        return shutil.disk_usage(prefix).free
    except OSError:
        return None


def _place(
    plan: WheelPlan, environment: CondaEnvironment, guard: PrefixGuard
) -> tuple[WheelPlan, list[Check]]:
    """What installing the wheel replaces, and whether each file may be written."""
    label = plan.wheel.name
    checks: list[Check] = []
    replaces, files, check = _replaced(plan, environment)
    if check is not None:
        checks.append(check)
    removes, kept = [], []
    for path in files:
        reason = guard.refuse_remove(path)
        if reason is None:
            removes.append(path)
        else:
            kept.append(reason)
    if kept:
        logger.warning(
            "%s: %d RECORD entries of the replaced version are left alone: %s",
            label,
            len(kept),
            "; ".join(kept[:3]),
        )
    owned: dict[str, list[str]] = {}
    refused = []
    for member, path in plan.destinations.items():
        owner = guard.owner(path)
        if owner is not None:
            owned.setdefault(owner, []).append(environment.relative(path) or str(path))
            continue
        reason = guard.refuse_write(path) or _other_dist_info(plan, path)
        if reason is not None:
            shown = member if len(member) < 120 else f"{member[:100]}..."
            refused.append(f"member {shown}: {reason}")
    for owner, paths in sorted(owned.items()):
        shown = ", ".join(sorted(paths)[:3]) + (", ..." if len(paths) > 3 else "")
        refused.append(
            f"would overwrite {len(paths)} file(s) of conda package {owner} ({shown}); "
            f"remove that package first with conda remove -p {environment.prefix} "
            f"--force {owner.split()[0]}"
        )
    for reason in refused[:5]:
        checks.append(Check(wheel=label, what="files", ok=False, detail=reason))
    if len(refused) > 5:
        detail = f"and {len(refused) - 5} more files refused for the same reasons"
        checks.append(Check(wheel=label, what="files", ok=False, detail=detail))
    if not refused:
        detail = f"{len(plan.destinations)} file(s) to write, none owned by a conda package"
        checks.append(Check(wheel=label, what="files", ok=True, detail=detail))
    gone = {os.path.normpath(p) for p in removes}
    overwrites = tuple(
        p
        for p in plan.destinations.values()
        if os.path.lexists(p) and os.path.normpath(p) not in gone
    )
    return replace(
        plan, replaces=replaces, removes=tuple(removes), kept=tuple(kept), overwrites=overwrites
    ), checks


def _other_dist_info(plan: WheelPlan, path: Path) -> str | None:
    """A wheel writes its own `.dist-info` only: one planted in another's name would
    make a later replacement remove what that RECORD lists."""
    for base in {plan.scheme["purelib"], plan.scheme["platlib"]}:
        try:
            top = path.relative_to(base).parts[0]
        except (ValueError, IndexError):
            continue
        if top.endswith((".dist-info", ".egg-info")) and top != plan.dist_info:
            return f"writes into {top}, the metadata of another distribution"
    return None


def _replaced(
    plan: WheelPlan, environment: CondaEnvironment
) -> tuple[Distribution | None, tuple[Path, ...], Check | None]:
    label, prefix = plan.wheel.name, environment.prefix
    site = {os.path.normpath(plan.scheme["purelib"]), os.path.normpath(plan.scheme["platlib"])}
    for dist in environment.installed(plan.name):
        if dist.path is None or os.path.normpath(dist.path.parent) not in site:
            continue  # elsewhere on sys.path (the standard library, a .pth): not ours to remove
        owner = environment.owner(dist.path / "METADATA")
        if owner is not None:
            detail = (
                f"{dist.name} {dist.version} is installed by conda package {owner.label}; "
                f"remove it first with conda remove -p {prefix} --force {owner.name}"
            )
            return None, (), Check(wheel=label, what="replaces", ok=False, detail=detail)
        files = _record_files(dist.path)
        if files is None:
            detail = (
                f"{dist.name} {dist.version} is installed without a readable RECORD "
                f"({dist.path}), so it cannot be replaced; remove it by hand"
            )
            return None, (), Check(wheel=label, what="replaces", ok=False, detail=detail)
        by = f" (installed by {dist.installer})" if dist.installer else ""
        detail = f"replaces {dist.name} {dist.version}{by}: {len(files)} file(s)"
        return dist, files, Check(wheel=label, what="replaces", ok=True, detail=detail)
    return None, (), None


def _record_files(dist_info: Path) -> tuple[Path, ...] | None:
    """The files pip would remove for an installed distribution: its RECORD's, and the
    bytecode of its modules (as named: not yet checked). None without a RECORD."""
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
        rows = parse_rows(text)
    except (OSError, UnicodeDecodeError, RecordError):
        return None
    base = dist_info.parent
    found: dict[str, Path] = {}
    for row in rows:
        if not row or not row[0] or "\0" in row[0]:
            continue
        path = Path(os.path.normpath(base / row[0]))
        # os.path's tests say False, where Path's raise, for a name too long
        if os.path.islink(path) or os.path.isfile(path):  # noqa: PTH113, PTH114
            found[str(path)] = path
        cache = path.parent / "__pycache__"
        if path.suffix == ".py" and os.path.isdir(cache) and not os.path.islink(cache):  # noqa: PTH112, PTH114
            for cached in cache.glob(f"{path.stem}.*.pyc"):
                found[str(cached)] = cached
    return tuple(found[k] for k in sorted(found))


def _clashes(guard: PrefixGuard, plans: Sequence[WheelPlan]) -> list[Check]:
    destinations = [
        Destination(wheel=plan.wheel.name, member=member, path=path)
        for plan in plans
        for member, path in plan.destinations.items()
    ]
    seen: set[str] = set()
    checks = []
    for wheel, detail in clashes(guard, destinations):
        if wheel not in seen:  # the first clash of a wheel says enough
            seen.add(wheel)
            checks.append(Check(wheel=wheel, what="files", ok=False, detail=detail))
    return checks
