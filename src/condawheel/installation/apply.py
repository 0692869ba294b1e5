"""Carrying out one wheel's plan inside a `Transaction`: the replaced version's files
and the files overwritten are moved aside, the wheel is unpacked with the `installer`
library, prefix placeholders are rewritten, and the `.dist-info` appears last, whole.

The `.dist-info` is written into a staging folder beside it and renamed into place
once its RECORD is complete and true, so a `.dist-info` never exists without its
RECORD, even for an instant."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from installer import install as installer_install
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme

from condawheel.crash import crash_point
from condawheel.exceptions import BadInputError
from condawheel.installation.environment import CondaEnvironment
from condawheel.installation.model import WheelPlan
from condawheel.installation.transaction import Transaction
from condawheel.wheel.prefix import replace_in_file
from condawheel.wheel.record import format_rows, hash_field, parse_rows

#: What `INSTALLER` says, so that pip and others know who installed the distribution.
INSTALLER_NAME = b"condawheel\n"


def install_wheel(
    wheel: WheelPlan, transaction: Transaction, environment: CondaEnvironment
) -> list[Path]:
    """Install ``wheel``; return the files whose prefix placeholders were rewritten."""
    _uninstall(wheel, transaction, environment.prefix)
    transaction.move_aside(wheel.overwrites)
    final = wheel.root / wheel.dist_info
    stage = wheel.root / f".{wheel.dist_info}.condawheel-stage"
    for folder in (final, stage):
        if os.path.lexists(folder):
            raise BadInputError(
                f"{folder} is in the way (not listed in the replaced version's RECORD); "
                "remove it, then install again"
            )
    files = [p for p in wheel.destinations.values() if not _under(p, final)]
    transaction.make_parents([*files, stage / "RECORD"])
    transaction.will_create(files)
    transaction.will_create_tree(stage)
    _install_files(wheel, environment, final, stage)
    changed = _replace_placeholders(wheel, environment, final, stage)
    transaction.will_create_tree(final)
    stage.rename(final)
    crash_point("dist-info")
    return [final / p.relative_to(stage) if _under(p, stage) else p for p in changed]


def _under(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _uninstall(wheel: WheelPlan, transaction: Transaction, prefix: Path) -> None:
    """Move the replaced distribution's files aside, and remove the folders they leave
    empty below the scheme's folders, as pip does."""
    _move_old_files(wheel, transaction)
    stop = {os.path.normpath(p) for p in (*wheel.scheme.values(), prefix)}
    parents = {os.path.normpath(p.parent) for p in wheel.removes}
    for directory in sorted(parents, key=lambda d: d.count(os.sep), reverse=True):
        current = Path(directory)
        while (
            str(current) not in stop
            and current.is_relative_to(prefix)
            and current.is_dir()
            and not current.is_symlink()
            and not any(current.iterdir())
        ):
            transaction.remove_empty_dir(current)
            current = current.parent


def _move_old_files(wheel: WheelPlan, transaction: Transaction) -> None:
    """The replaced version's files, and its `.dist-info` last, in one rename when its
    RECORD lists all of it: it never exists without its RECORD, even half way."""
    old = wheel.replaces.path if wheel.replaces is not None else None
    if old is None:
        transaction.move_aside(wheel.removes)
        return
    inside = [p for p in wheel.removes if _under(p, old)]
    transaction.move_aside([p for p in wheel.removes if not _under(p, old)])
    present = {os.path.normpath(p) for p in old.rglob("*") if not p.is_dir()}
    if present <= {os.path.normpath(p) for p in inside}:
        transaction.move_aside([old])
    else:  # files its RECORD does not list: they stay, and the new version stops there
        transaction.move_aside(sorted(inside, key=lambda p: p == old / "RECORD"))


@dataclass
class _StagedDestination(SchemeDictionaryDestination):
    """installer's destination, with the `.dist-info` written to a staging folder."""

    final: Path = Path()
    stage: Path = Path()

    def _path_with_destdir(self, scheme: Scheme, path: str) -> Path:
        target = super()._path_with_destdir(scheme, path)
        if _under(target, self.final):
            return self.stage / target.relative_to(self.final)
        return target

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        entry = super().write_to_fs(scheme, path, stream, is_executable)
        crash_point("write")
        return entry


def _install_files(
    wheel: WheelPlan, environment: CondaEnvironment, final: Path, stage: Path
) -> None:
    machine = environment.interpreter.markers.get("platform_machine", "")
    kind: Any = (
        {"ARM64": "win-arm64", "x86": "win-ia32"}.get(machine, "win-amd64")
        if environment.interpreter.is_windows
        else "posix"
    )
    destination = _StagedDestination(
        {key: str(path) for key, path in wheel.scheme.items()},
        interpreter=str(environment.interpreter.executable),
        script_kind=kind,
        final=final,
        stage=stage,
    )
    with WheelFile.open(wheel.wheel) as source:
        installer_install(
            source, destination, additional_metadata={"INSTALLER": INSTALLER_NAME, "REQUESTED": b""}
        )


def _replace_placeholders(
    wheel: WheelPlan, environment: CondaEnvironment, final: Path, stage: Path
) -> list[Path]:
    changed = []
    for entry in wheel.placeholders:
        path = wheel.destinations[entry.path]
        if _under(path, final):
            path = stage / path.relative_to(final)
        if replace_in_file(path, entry, str(environment.prefix)):
            changed.append(path)
    if changed:
        _rewrite_record(stage / "RECORD", wheel.root, final, stage, changed)
    return changed


def _rewrite_record(
    record: Path, root: Path, final: Path, stage: Path, changed: Iterable[Path]
) -> None:
    """Give the rewritten files their new hash and size, so that RECORD stays true."""
    targets = {os.path.normpath(p) for p in changed}
    rows = parse_rows(record.read_text(encoding="utf-8"))
    for row in rows:
        if len(row) < 3:
            continue
        path = Path(os.path.normpath(root / row[0]))
        if _under(path, final):
            path = stage / path.relative_to(final)
        if str(path) in targets:
            data = path.read_bytes()
            row[1], row[2] = hash_field(hashlib.sha256(data).digest()), str(len(data))
    record.write_text(format_rows(rows), encoding="utf-8")
