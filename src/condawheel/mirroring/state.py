"""What a mirror has converted: one small file per build, in the output folder.

``OUT/.condawheel-mirror/<subdir>/<file name>.json`` holds the sha256 of the build that
was converted, the name and size of the wheel it gave (or why it could not be
converted), and the settings that shape a wheel (condawheel's version among them). A
build counts as done, or as failed, only while all of these still hold: a build that
changed (a new sha256 under the same name), a wheel that is gone or was cut, another
condawheel or other settings, make it converted again. An unreadable state file counts
as nothing done.

One file per build, rather than one file for all, so that recording a wheel costs the
same at the first build as at the millionth, and so that the output folders of several
shards merge into the state of one run by copying. Each is written through a temporary
file and a rename (`atomic_output`) after its wheel is in place: a run killed in
between leaves a wheel that the next run converts again, to the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from condawheel.atomic import atomic_output
from condawheel.conda.cache import ChannelPackage
from condawheel.exceptions import BadInputError
from condawheel.locks import try_lock
from condawheel.publishing.static_index import IndexedWheel

STATE_DIR = ".condawheel-mirror"
#: The folder under STATE_DIR where wheels are made (no subdir has this name).
STAGING = ".staging"
LOCK = "lock"
#: The folder under STATE_DIR of what the index needs from each wheel (`WheelFacts`).
WHEELS = ".wheels"
#: The folder under STATE_DIR that names the build each wheel came from.
CLAIMS = ".claims"
_VERSION = 1


@dataclass(frozen=True, slots=True)
class MirrorState:
    """The state under ``out_dir``; ``settings`` names what shapes a wheel (a change of
    it converts everything again)."""

    out_dir: Path
    settings: str

    def path(self, build: ChannelPackage) -> Path:
        # The file name was checked to be a plain package file name (ChannelIndex).
        return self.out_dir / STATE_DIR / build.subdir / f"{build.file_name}.json"

    def done(self, build: ChannelPackage) -> Path | None:
        """The wheel ``build`` was converted to, if it was and the wheel is still there."""
        entry = self._entry(build)
        wheel_name = entry.get("wheel")
        if not isinstance(wheel_name, str) or "/" in wheel_name or not wheel_name.endswith(".whl"):
            return None
        wheel = self.out_dir / wheel_name
        try:
            size = wheel.stat().st_size
        except OSError:
            return None
        return wheel if entry.get("size") == size else None

    def failed(self, build: ChannelPackage) -> str | None:
        """Why ``build`` could not be converted, if it was tried with these settings."""
        reason = self._entry(build).get("failed")
        return reason if isinstance(reason, str) else None

    def _entry(self, build: ChannelPackage) -> dict[str, object]:
        """The build's entry, if it is about this very build and these settings."""
        try:
            entry = json.loads(self.path(build).read_bytes())
        except (OSError, ValueError):
            return {}
        if (
            not isinstance(entry, dict)
            or entry.get("version") != _VERSION
            or entry.get("sha256") != build.sha256
            or entry.get("settings") != self.settings
        ):
            return {}
        return entry

    def record(self, build: ChannelPackage, wheel: Path) -> None:
        """Write down that ``build`` gave ``wheel`` (a file in the output folder)."""
        with atomic_output(self.out_dir / STATE_DIR / CLAIMS / wheel.name) as stream:
            stream.write(f"{build.subdir}/{build.file_name}\n".encode())
        self._write(build, {"wheel": wheel.name, "size": wheel.stat().st_size})

    def recorded(self, subdir: str) -> list[str]:
        """The file names of the builds of ``subdir`` that have a state file."""
        try:
            found = list((self.out_dir / STATE_DIR / subdir).iterdir())
        except OSError:
            return []
        return [
            p.name.removesuffix(".json")
            for p in found
            if p.name.endswith(".json") and not p.name.startswith(".")
        ]

    def forget(self, subdir: str, file_name: str) -> Path | None:
        """Remove the state of a build, and its wheel while the wheel is still the one it
        gave; the wheel removed, if any. The wheel goes first: a run killed in between
        leaves a state that the next pruning finishes."""
        key = f"{subdir}/{file_name}"
        path = self.out_dir / STATE_DIR / subdir / f"{file_name}.json"
        removed = None
        try:
            entry = json.loads(path.read_bytes())
        except (OSError, ValueError):
            entry = None
        wheel_name = entry.get("wheel") if isinstance(entry, dict) else None
        if isinstance(wheel_name, str) and "/" not in wheel_name and wheel_name.endswith(".whl"):
            claim = self.out_dir / STATE_DIR / CLAIMS / wheel_name
            with contextlib.suppress(OSError):
                if claim.read_text().strip() == key:
                    removed = self.out_dir / wheel_name
                    removed.unlink(missing_ok=True)
                    claim.unlink()
        path.unlink(missing_ok=True)
        return removed

    def owner(self, wheel_name: str) -> str | None:
        """The build (``subdir/file name``) that the wheel named ``wheel_name`` in the
        output folder came from, while that build counts as done."""
        try:
            key = (self.out_dir / STATE_DIR / CLAIMS / wheel_name).read_text().strip()
            entry = json.loads((self.out_dir / STATE_DIR / f"{key}.json").read_bytes())
            size = (self.out_dir / wheel_name).stat().st_size
        except (OSError, ValueError):
            return None
        if (
            isinstance(entry, dict)
            and entry.get("build") == key
            and entry.get("settings") == self.settings
            and entry.get("wheel") == wheel_name
            and entry.get("size") == size
        ):
            return key
        return None

    def record_failure(self, build: ChannelPackage, reason: str) -> None:
        """Write down that ``build`` cannot be converted (with these settings), and why."""
        self._write(build, {"failed": reason})

    def _write(self, build: ChannelPackage, outcome: dict[str, object]) -> None:
        entry = {
            "version": _VERSION,
            "build": f"{build.subdir}/{build.file_name}",
            "sha256": build.sha256,
            "settings": self.settings,
            **outcome,
        }
        with atomic_output(self.path(build)) as stream:
            stream.write(json.dumps(entry, sort_keys=True).encode() + b"\n")

    @contextmanager
    def held(self) -> Iterator[None]:
        """The output folder to this run alone for the block; raises BadInputError at
        once when another mirror is writing there."""
        root = self.out_dir / STATE_DIR
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BadInputError(f"cannot write to {root}: {exc.strerror}") from None
        try:
            if not try_lock(fd):
                raise BadInputError(
                    f"{self.out_dir}: another condawheel mirror is writing there; wait for "
                    "it to finish, or give another -w"
                )
            yield
        finally:
            os.close(fd)  # which releases the lock

    @property
    def staging(self) -> Path:
        """Where wheels are made before they are renamed into the output folder."""
        return self.out_dir / STATE_DIR / STAGING

    def sweep(self) -> None:
        """Remove what a killed run left: a state file half written, or a wheel made but
        not yet renamed into place (its build is converted again)."""
        root = self.out_dir / STATE_DIR
        if root.is_dir():
            for leftover in [*root.glob("*/.*.part"), *self.staging.glob("*.whl")]:
                leftover.unlink(missing_ok=True)


class WheelFacts:
    """What the static index needs from each wheel of the folder, remembered in
    ``STATE_DIR/.wheels/<wheel>.json`` while the wheel's size and time of change stay
    the same, so that a run re-reads only the wheels that are new or changed. What
    `build_index` asks for and is not remembered is noted, to be remembered after."""

    def __init__(self, out_dir: Path) -> None:
        self._root = out_dir / STATE_DIR / WHEELS
        self.missed: list[Path] = []

    def _path(self, wheel: Path) -> Path:
        return self._root / f"{wheel.name}.json"

    def known(self, wheel: Path) -> IndexedWheel | None:
        """The facts of ``wheel``, if remembered for the file as it is now."""
        try:
            entry = json.loads(self._path(wheel).read_bytes())
            stat = wheel.stat()
            if (entry["size"], entry["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
                return IndexedWheel(
                    path=wheel,
                    project=str(entry["project"]),
                    name=str(entry["name"]),
                    version=Version(str(entry["version"])),
                    sha256=str(entry["sha256"]),
                    size=stat.st_size,
                    metadata_sha256=str(entry["metadata_sha256"]),
                    requires_python=_optional_str(entry["requires_python"]),
                )
        except (OSError, ValueError, KeyError, TypeError, InvalidVersion):
            pass
        self.missed.append(wheel)
        return None

    def remember(self, wheel: IndexedWheel) -> None:
        try:
            mtime_ns = wheel.path.stat().st_mtime_ns
        except OSError:
            return
        entry = {
            "project": wheel.project,
            "name": wheel.name,
            "version": str(wheel.version),
            "sha256": wheel.sha256,
            "size": wheel.size,
            "mtime_ns": mtime_ns,
            "metadata_sha256": wheel.metadata_sha256,
            "requires_python": wheel.requires_python,
        }
        with atomic_output(self._path(wheel.path)) as stream:
            stream.write(json.dumps(entry, sort_keys=True).encode() + b"\n")


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
