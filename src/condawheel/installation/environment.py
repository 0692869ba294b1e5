"""A conda environment as `condawheel install` sees it: its conda records, its own
interpreter, and the system it runs on. Read once, before anything is changed."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import rattler
from packaging import tags as packaging_tags
from packaging.tags import Tag
from packaging.utils import canonicalize_name

from condawheel.exceptions import BadInputError
from condawheel.installation.interpreter import (
    Distribution,
    Interpreter,
    find_interpreter,
    probe_interpreter,
)
from condawheel.wheel.tags import GLIBC_BASELINE, NOARCH_PLATFORM, encode_platform

_VERSION_PREFIX = re.compile(r"^(\d+)(?:\.(\d+))?")


def _two(text: str) -> tuple[int, int] | None:
    found = _VERSION_PREFIX.match(text.strip())
    if not found:
        return None
    return int(found.group(1)), int(found.group(2) or 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaRecord:
    """One `conda-meta/*.json` record: a conda package installed in the environment."""

    name: str
    version: str
    build: str
    build_number: int = 0
    subdir: str | None = None
    files: tuple[str, ...] = ()

    def package_record(self, default_subdir: str) -> rattler.PackageRecord:
        """The record as py-rattler's model, for match-spec matching."""
        return rattler.PackageRecord(
            self.name,
            self.version,
            rattler.BuildString(self.build),
            self.build_number,
            self.subdir or default_subdir,
        )

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} {self.build}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaEnvironment:
    """A conda environment: a prefix with `conda-meta/`, and a Python in it."""

    prefix: Path
    records: tuple[CondaRecord, ...]
    interpreter: Interpreter
    subdir: str
    glibc: tuple[int, int] | None
    macos: tuple[int, int] | None
    #: The PEP 668 marker file, when the environment has one.
    externally_managed: Path | None
    _owners: Mapping[str, CondaRecord] = field(default_factory=dict, repr=False)

    @classmethod
    def open(
        cls, prefix: Path | None = None, *, environ: Mapping[str, str] | None = None
    ) -> CondaEnvironment:
        """Read the environment at ``prefix`` (default: ``$CONDA_PREFIX``)."""
        environ = os.environ if environ is None else environ
        prefix = locate(prefix, environ)
        records = tuple(read_records(prefix / "conda-meta"))
        interpreter = probe_interpreter(find_interpreter(prefix))
        subdir = _subdir(records)
        glibc = _override(environ, "CONDA_OVERRIDE_GLIBC") or _glibc(interpreter)
        macos = _override(environ, "CONDA_OVERRIDE_OSX") or (
            _two(interpreter.mac_ver) if interpreter.mac_ver else None
        )
        owners = {path: record for record in records for path in record.files}
        return cls(
            prefix=prefix,
            records=records,
            interpreter=interpreter,
            subdir=subdir,
            glibc=glibc,
            macos=macos,
            externally_managed=_externally_managed(prefix, interpreter),
            _owners=owners,
        )

    def owner(self, path: Path) -> CondaRecord | None:
        """The conda package whose record lists ``path`` (absolute, or prefix-relative)."""
        relative = self.relative(path)
        return self._owners.get(relative) if relative is not None else None

    def relative(self, path: Path) -> str | None:
        """``path`` relative to the prefix, in conda's spelling; None when outside it."""
        absolute = Path(os.path.normpath(path if path.is_absolute() else self.prefix / path))
        try:
            relative = absolute.relative_to(os.path.normpath(self.prefix))
        except ValueError:
            # the interpreter may report its paths through links the prefix was not named by
            try:
                relative = absolute.resolve().relative_to(self.prefix.resolve())
            except (ValueError, OSError):
                return None
        return PurePosixPath(*relative.parts).as_posix()

    def installed(self, canonical_name: str) -> list[Distribution]:
        """The installed distributions of that name (canonical form), first on the path first."""
        return [
            d for d in self.interpreter.distributions if canonicalize_name(d.name) == canonical_name
        ]

    def virtual_packages(self) -> list[CondaRecord]:
        """The system as conda describes it: `__unix`, `__linux`, `__glibc`, `__osx`, ..."""
        found: list[CondaRecord] = []
        system = self.interpreter.markers.get("platform_system", "")
        if self.subdir.startswith("win-"):
            found.append(CondaRecord(name="__win", version="0", build="0"))
        else:
            found.append(CondaRecord(name="__unix", version="0", build="0"))
        if system == "Linux":
            release = self.interpreter.markers.get("platform_release", "")
            linux = re.match(r"^\d+(?:\.\d+)*", release)
            version = linux.group(0) if linux else "0"
            found.append(CondaRecord(name="__linux", version=version, build="0"))
        if self.glibc:
            version = f"{self.glibc[0]}.{self.glibc[1]}"
            found.append(CondaRecord(name="__glibc", version=version, build="0"))
        if self.macos:
            version = f"{self.macos[0]}.{self.macos[1]}"
            found.append(CondaRecord(name="__osx", version=version, build="0"))
        machine = self.interpreter.markers.get("platform_machine", "")
        if machine:
            found.append(CondaRecord(name="__archspec", version="1", build=machine))
        return found

    def platform_tags(self) -> list[str]:
        """The conda platform tags this environment takes, best first: its subdir's, with
        every glibc or macOS floor up to the system's, then conda_noarch."""
        return [*self._subdir_platform_tags(), NOARCH_PLATFORM]

    def _subdir_platform_tags(self) -> list[str]:
        if self.subdir.startswith("linux-"):
            floor = max(self.glibc or GLIBC_BASELINE, GLIBC_BASELINE)
            tag = encode_platform(self.subdir, floor=floor)
        else:
            tag = encode_platform(self.subdir, floor=self.macos)
        linux = re.match(r"^conda_linux_(\d+)_(\d+)_(.+)$", tag)
        if linux:
            major, minor, machine = int(linux.group(1)), int(linux.group(2)), linux.group(3)
            return [f"conda_linux_{major}_{m}_{machine}" for m in range(minor, -1, -1)]
        macos = re.match(r"^conda_macosx_(\d+)_(\d+)_(.+)$", tag)
        if macos:
            version = (int(macos.group(1)), int(macos.group(2)))
            return [f"conda_{p}" for p in packaging_tags.mac_platforms(version, macos.group(3))]
        return [tag]

    def supported_tags(self) -> list[Tag]:
        """Every wheel tag this environment's interpreter and system take, best first."""
        interpreter = self.interpreter
        version = interpreter.version[:2]
        platforms = [*self.platform_tags(), "any"]
        nodot = f"{version[0]}{version[1]}"
        if interpreter.implementation == "cpython":
            abi = f"cp{nodot}{'t' if interpreter.free_threading else ''}"
            found = list(packaging_tags.cpython_tags(version, [abi], platforms))
            name = f"cp{nodot}"
        else:
            short = {"pypy": "pp"}.get(interpreter.implementation, interpreter.implementation)
            name = f"{short}{nodot}"
            found = list(packaging_tags.generic_tags(name, None, platforms))
        return [*found, *packaging_tags.compatible_tags(version, name, platforms)]

    def matching_records(
        self, name: str, spec: str, extra: Iterable[CondaRecord] = ()
    ) -> tuple[list[CondaRecord], bool]:
        """The conda records (or virtual packages, for `__` names) called ``name`` that
        match the conda ``spec``, and whether any record of that name exists at all;
        ``extra`` are more records to look at (packages installed as wheels)."""
        match = rattler.MatchSpec(f"{name} {spec}".strip())
        pool = self.virtual_packages() if name.startswith("__") else [*self.records, *extra]
        named = [r for r in pool if r.name == name]
        return [r for r in named if match.matches(r.package_record(self.subdir))], bool(named)


def locate(prefix: Path | None, environ: Mapping[str, str]) -> Path:
    """The environment's prefix, absolute: ``prefix``, else ``$CONDA_PREFIX``; it must
    have `conda-meta/`."""
    if prefix is None:
        active = environ.get("CONDA_PREFIX")
        if not active:
            raise BadInputError(
                "no conda environment is active (CONDA_PREFIX is not set): "
                "activate one, or name it with --prefix"
            )
        prefix = Path(active)
    prefix = prefix.absolute()
    if not (prefix / "conda-meta").is_dir():
        raise BadInputError(
            f"{prefix} is not a conda environment (it has no conda-meta/); "
            "create one with conda, mamba or pixi, or name another with --prefix"
        )
    return prefix


def read_records(conda_meta: Path) -> Iterable[CondaRecord]:
    """The records of `conda-meta/`, in file name order."""
    for path in sorted(conda_meta.glob("*.json")):
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise BadInputError(f"{path}: not a readable conda record ({exc})") from None
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("name", "version", "build")
        ):
            raise BadInputError(f"{path}: a conda record needs string name, version and build")
        files = data.get("files") or []
        if not isinstance(files, list):
            raise BadInputError(f"{path}: 'files' is not a list")
        subdir = data.get("subdir")
        build_number = data.get("build_number", 0)
        yield CondaRecord(
            name=data["name"],
            version=data["version"],
            build=data["build"],
            build_number=build_number if isinstance(build_number, int) else 0,
            subdir=subdir if isinstance(subdir, str) else None,
            files=tuple(str(f).replace("\\", "/") for f in files),
        )


def _subdir(records: tuple[CondaRecord, ...]) -> str:
    """The environment's subdir: its python's record, else its records' most common."""
    python = next((r for r in records if r.name == "python" and r.subdir), None)
    if python and python.subdir != "noarch":
        return str(python.subdir)
    counts = Counter(r.subdir for r in records if r.subdir and r.subdir != "noarch")
    if counts:
        return counts.most_common(1)[0][0]
    return str(rattler.Subdir.current())


def _glibc(interpreter: Interpreter) -> tuple[int, int] | None:
    family, _, version = interpreter.libc.partition(" ")
    if family == "glibc":
        return _two(version)
    if interpreter.markers.get("platform_system") != "Linux" or interpreter.libc:
        return None
    # The interpreter could not say (a static build): ask rattler's detection instead.
    for package in rattler.VirtualPackage.detect():
        generic = package.into_generic()
        if str(generic.name.normalized) == "__glibc":
            return _two(str(generic.version))
    return None


def _override(environ: Mapping[str, str], name: str) -> tuple[int, int] | None:
    # conda's own switches for the virtual packages, honoured the same way.
    value = environ.get(name, "")
    return _two(value) if value else None


def _externally_managed(prefix: Path, interpreter: Interpreter) -> Path | None:
    # PEP 668 puts the marker in the stdlib directory. conda writes it into its
    # python's stdlib, lib/pythonX.Y/ under the prefix; an environment whose
    # interpreter lives elsewhere (a venv-style link) is still marked there.
    stdlib = "Lib" if interpreter.is_windows else f"lib/python{interpreter.short_version}"
    for directory in (interpreter.paths.get("stdlib"), prefix / stdlib):
        if directory is not None and (directory / "EXTERNALLY-MANAGED").is_file():
            return directory / "EXTERNALLY-MANAGED"
    return None
