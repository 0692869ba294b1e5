"""`install()`: conda-tagged wheels into a conda environment, all or nothing.

`plan_install()` reads the wheels and checks them against the environment without
changing anything, collecting every problem; `install()` carries out a plan that has
none with the `installer` library, then rewrites prefix placeholders. Every change is
recorded in a transaction that puts the environment back if any step fails.
"""

from __future__ import annotations

import base64
import csv
import email.parser
import hashlib
import io
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from email.message import Message
from pathlib import Path
from typing import Any

from installer import install as installer_install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.sources import WheelFile
from installer.utils import parse_entrypoints
from packaging.utils import canonicalize_name

from condawheel.environment import CondaEnvironment, Distribution
from condawheel.exceptions import BadInputError, CondawheelError
from condawheel.install_checks import (
    Check,
    check_batch,
    check_dist,
    check_external,
    check_python,
    check_tags,
)
from condawheel.placeholders import PREFIX_MANIFEST, PlaceholderFile, read_manifest, replace_in_file
from condawheel.transaction import RollbackError, Transaction
from condawheel.wheelfile import WheelInput, WheelName

logger = logging.getLogger(__name__)

#: What `INSTALLER` says, so that pip and others know who installed the distribution.
INSTALLER_NAME = b"condawheel\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallOptions:
    #: Skip the Requires-Dist and Requires-External checks (never the tag check).
    no_deps: bool = False
    #: Install into an environment marked EXTERNALLY-MANAGED (PEP 668) all the same.
    break_system_packages: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelPlan:
    """One wheel, read and placed: where each of its files will be written."""

    wheel: Path
    #: The file name's parts: name, version, build and tags.
    filename: WheelName
    name: str
    version: str
    dist_info: str
    #: The directory the wheel's root goes to (purelib or platlib).
    root: Path
    #: installer's scheme: purelib, platlib, scripts, headers, data.
    scheme: Mapping[str, Path]
    #: Absolute destination of every file the installation writes, RECORD included.
    destinations: Mapping[str, Path]
    placeholders: tuple[PlaceholderFile, ...]
    #: The installed distribution of the same name that this wheel replaces.
    replaces: Distribution | None = None
    #: Its files, removed first as pip removes them.
    removes: tuple[Path, ...] = ()
    #: Files already there that no package owns: overwritten, as pip does.
    overwrites: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallPlan:
    environment: CondaEnvironment
    wheels: tuple[WheelPlan, ...]
    checks: tuple[Check, ...]

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def fix_commands(self) -> list[str]:
        """The `conda install` / `pip install` commands that would satisfy what is missing."""
        conda = sorted({c.conda_fix for c in self.problems if c.conda_fix})
        pip = sorted({c.pip_fix for c in self.problems if c.pip_fix})
        commands = []
        if conda:
            specs = " ".join(f'"{s}"' for s in conda)
            commands.append(f"conda install -p {self.environment.prefix} {specs}")
        if pip:
            requirements = " ".join(f'"{r}"' for r in pip)
            commands.append(
                f"{self.environment.interpreter.executable} -m pip install {requirements}"
            )
        return commands

    def error(self) -> BadInputError:
        """Every problem, and what fixes them, as one line."""
        listed = "; ".join(f"{c.wheel}: {c.detail}" if c.wheel else c.detail for c in self.problems)
        fixes = self.fix_commands()
        suffix = f"; to fix: {' && '.join(fixes)}" if fixes else ""
        return BadInputError(f"cannot install: {listed}{suffix}")


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallResult:
    plan: InstallPlan
    #: Files whose placeholders were replaced by the prefix.
    rewritten: tuple[Path, ...] = ()


def plan_install(
    wheels: Sequence[Path], environment: CondaEnvironment, options: InstallOptions | None = None
) -> InstallPlan:
    """Read the wheels and check them against ``environment``; changes nothing.

    Unreadable wheels raise; every other problem becomes a failed `Check` in the plan.
    """
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
    read = [_read_wheel(path, environment) for path in wheels]
    plans = [plan for plan, _ in read]
    checks.extend(check_batch(plans))
    batch = {plan.name: plan.version for plan in plans}
    for plan, metadata in read:
        label = plan.wheel.name
        checks.append(check_tags(label, plan.filename, environment))
        checks.extend(check_python(label, metadata, environment))
        if not options.no_deps:
            checks.extend(check_external(label, metadata, environment))
            checks.extend(check_dist(label, metadata, environment, batch))
    placed = []
    for plan in plans:
        plan, found = _place(plan, environment)
        placed.append(plan)
        checks.extend(found)
    return InstallPlan(environment=environment, wheels=tuple(placed), checks=tuple(checks))


def install(plan: InstallPlan) -> InstallResult:
    """Carry out ``plan``: all of it, or, on any failure, nothing (the error is raised)."""
    if plan.problems:
        raise plan.error()
    environment = plan.environment
    rewritten: list[Path] = []
    try:
        with Transaction() as transaction:
            for wheel in plan.wheels:
                _uninstall(wheel, transaction, environment.prefix)
                for path in wheel.overwrites:
                    transaction.remove(path)
                for path in wheel.destinations.values():
                    transaction.create(path)
                _install_files(wheel, environment)
                rewritten.extend(_replace_placeholders(wheel, environment))
                logger.info(
                    "installed %s %s into %s", wheel.name, wheel.version, environment.prefix
                )
    except RollbackError:
        raise
    except CondawheelError as exc:
        raise type(exc)(f"{exc}; the environment was left as it was") from None
    except (OSError, InstallerError) as exc:
        raise BadInputError(
            f"installation failed: {exc}; the environment was left as it was"
        ) from None
    return InstallResult(plan=plan, rewritten=tuple(rewritten))


# -- reading a wheel -----------------------------------------------------------


def _read_wheel(path: Path, environment: CondaEnvironment) -> tuple[WheelPlan, Message]:
    with WheelInput(path) as wheel:
        dist_info = wheel.dist_info
        members = set(wheel.names)

        def text(name: str) -> str | None:
            member = f"{dist_info}/{name}"
            return wheel.read(member).decode("utf-8", "replace") if member in members else None

        metadata = email.parser.Parser().parsestr(text("METADATA") or "")
        wheel_file = email.parser.Parser().parsestr(text("WHEEL") or "")
        manifest = f"{dist_info}/{PREFIX_MANIFEST}"
        placeholders = read_manifest(wheel.read(manifest), path.name) if manifest in members else ()
        entry_points = text("entry_points.txt")
    if not metadata.get("Name") or not metadata.get("Version"):
        raise BadInputError(f"{path.name}: {dist_info}/METADATA has no Name or Version")
    name = canonicalize_name(metadata["Name"])
    if name != canonicalize_name(wheel.name.name):
        raise BadInputError(
            f"{path.name}: the file name says {wheel.name.name}, METADATA says {metadata['Name']}"
        )
    purelib = (wheel_file.get("Root-Is-Purelib") or "").strip().lower() == "true"
    scheme = _scheme(environment, metadata["Name"])
    root = scheme["purelib" if purelib else "platlib"]
    destinations = _destinations(path.name, members, dist_info, root, scheme)
    for script in _scripts(entry_points, environment):
        destinations[f"(script) {script}"] = scheme["scripts"] / script
    for extra in ("INSTALLER", "REQUESTED", "RECORD"):
        destinations[f"{dist_info}/{extra}"] = root / dist_info / extra
    for entry in placeholders:
        if entry.path not in destinations:
            raise BadInputError(
                f"{path.name}: {PREFIX_MANIFEST} lists {entry.path}, which the wheel lacks"
            )
    plan = WheelPlan(
        wheel=path,
        filename=wheel.name,
        name=name,
        version=metadata["Version"],
        dist_info=dist_info,
        root=root,
        scheme=scheme,
        destinations=destinations,
        placeholders=placeholders,
    )
    return plan, metadata


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
                raise BadInputError(f"{label}: {member} is not in a valid .data subdirectory")
            found[member] = scheme[parts[1]] / parts[2]
        else:
            found[member] = root / member
    return found


def _scripts(entry_points: str | None, environment: CondaEnvironment) -> list[str]:
    if not entry_points:
        return []
    suffix = ".exe" if environment.interpreter.is_windows else ""
    return [f"{name}{suffix}" for name, _, _, _ in parse_entrypoints(entry_points)]


# -- checks --------------------------------------------------------------------


def _place(plan: WheelPlan, environment: CondaEnvironment) -> tuple[WheelPlan, list[Check]]:
    """What installing the wheel replaces, and whether a conda package owns any of it."""
    label = plan.wheel.name
    checks: list[Check] = []
    prefix = environment.prefix
    replaces: Distribution | None = None
    removes: tuple[Path, ...] = ()
    site = {os.path.normpath(plan.scheme["purelib"]), os.path.normpath(plan.scheme["platlib"])}
    for dist in environment.installed(plan.name):
        if dist.path is None or os.path.normpath(dist.path.parent) not in site:
            continue  # elsewhere on sys.path (the standard library, a .pth): not ours to remove
        owner = environment.owner(dist.path / "METADATA")
        if owner is not None:
            checks.append(
                Check(
                    wheel=label,
                    what="replaces",
                    ok=False,
                    detail=f"{dist.name} {dist.version} is installed by conda package "
                    f"{owner.label}; remove it first with conda remove -p {prefix} "
                    f"--force {owner.name}",
                )
            )
            break
        files = _record_files(dist.path)
        if files is None:
            checks.append(
                Check(
                    wheel=label,
                    what="replaces",
                    ok=False,
                    detail=f"{dist.name} {dist.version} is installed without a RECORD "
                    f"({dist.path}), so it cannot be replaced; remove it by hand",
                )
            )
            break
        replaces, removes = dist, files
        by = f" (installed by {dist.installer})" if dist.installer else ""
        detail = f"replaces {dist.name} {dist.version}{by}: {len(files)} file(s)"
        checks.append(Check(wheel=label, what="replaces", ok=True, detail=detail))
        break
    owned: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for path in [*plan.destinations.values(), *removes]:
        owner = environment.owner(path)
        if owner is not None:
            owned.setdefault(owner.name, set()).add(environment.relative(path) or str(path))
            labels[owner.name] = owner.label
    for name, paths in sorted(owned.items()):
        shown = ", ".join(sorted(paths)[:3]) + (", ..." if len(paths) > 3 else "")
        checks.append(
            Check(
                wheel=label,
                what="files",
                ok=False,
                detail=f"would overwrite {len(paths)} file(s) of conda package {labels[name]} "
                f"({shown}); remove that package first with conda remove -p {prefix} "
                f"--force {name}",
            )
        )
    if not owned:
        count = len(plan.destinations)
        detail = f"{count} file(s) to write, none owned by a conda package"
        checks.append(Check(wheel=label, what="files", ok=True, detail=detail))
    gone = {os.path.normpath(p) for p in removes}
    overwrites = tuple(
        p
        for p in plan.destinations.values()
        if os.path.lexists(p) and os.path.normpath(p) not in gone
    )
    placed = replace(plan, replaces=replaces, removes=removes, overwrites=overwrites)
    return placed, checks


def _record_files(dist_info: Path) -> tuple[Path, ...] | None:
    """The files pip would remove for an installed distribution: its RECORD's, and the
    bytecode of its modules. None without a RECORD."""
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
    except OSError:
        return None
    base = dist_info.parent
    found: dict[str, Path] = {}
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        path = Path(os.path.normpath(base / row[0]))
        if path.is_symlink() or path.is_file():
            found[str(path)] = path
        if path.suffix == ".py":
            for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
                found[str(cached)] = cached
    return tuple(found[k] for k in sorted(found))


# -- carrying it out -----------------------------------------------------------


def _uninstall(wheel: WheelPlan, transaction: Transaction, prefix: Path) -> None:
    """Remove the replaced distribution's files, and the folders they leave empty below
    the scheme's folders, as pip does."""
    for path in wheel.removes:
        transaction.remove(path)
    stop = {os.path.normpath(p) for p in (*wheel.scheme.values(), prefix)}
    parents = {os.path.normpath(p.parent) for p in wheel.removes}
    for directory in sorted(parents, key=lambda d: d.count(os.sep), reverse=True):
        current = Path(directory)
        while (
            str(current) not in stop
            and current.is_relative_to(prefix)
            and current.is_dir()
            and not any(current.iterdir())
        ):
            transaction.remove_empty_dir(current)
            current = current.parent


def _install_files(wheel: WheelPlan, environment: CondaEnvironment) -> None:
    machine = environment.interpreter.markers.get("platform_machine", "")
    kind: Any = (
        {"ARM64": "win-arm64", "x86": "win-ia32"}.get(machine, "win-amd64")
        if environment.interpreter.is_windows
        else "posix"
    )
    destination = SchemeDictionaryDestination(
        {key: str(path) for key, path in wheel.scheme.items()},
        interpreter=str(environment.interpreter.executable),
        script_kind=kind,
    )
    with WheelFile.open(wheel.wheel) as source:
        installer_install(
            source, destination, additional_metadata={"INSTALLER": INSTALLER_NAME, "REQUESTED": b""}
        )


def _replace_placeholders(wheel: WheelPlan, environment: CondaEnvironment) -> list[Path]:
    changed = []
    for entry in wheel.placeholders:
        path = wheel.destinations[entry.path]
        if replace_in_file(path, entry, str(environment.prefix)):
            changed.append(path)
    if changed:
        _rewrite_record(wheel.root / wheel.dist_info / "RECORD", wheel.root, changed)
    return changed


def _rewrite_record(record: Path, root: Path, changed: Iterable[Path]) -> None:
    """Give the rewritten files their new hash and size, so that RECORD stays true."""
    targets = {os.path.normpath(p) for p in changed}
    rows = list(csv.reader(io.StringIO(record.read_text(encoding="utf-8"))))
    for row in rows:
        if len(row) >= 3 and os.path.normpath(root / row[0]) in targets:
            data = (root / row[0]).read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            row[1], row[2] = f"sha256={digest.decode()}", str(len(data))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    record.write_text(out.getvalue(), encoding="utf-8")
