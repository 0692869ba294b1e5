"""Reading an existing wheel: its name, tags, `.dist-info` and members."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from condawheel.exceptions import BadInputError


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelName:
    name: str
    version: str
    build: str | None
    tags: frozenset[Tag]

    @property
    def python(self) -> str:
        return ".".join(sorted({t.interpreter for t in self.tags}))

    @property
    def abi(self) -> str:
        return ".".join(sorted({t.abi for t in self.tags}))

    @property
    def platforms(self) -> list[str]:
        return sorted({t.platform for t in self.tags})


class WheelInput:
    """A wheel on disk, opened for reading; a context manager."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise BadInputError(f"{path}: no such file")
        try:
            name, version, build, tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename as exc:
            raise BadInputError(f"{path.name}: not a wheel file name ({exc})") from None
        self.path = path
        self.label = path.name
        self.name = WheelName(
            name=str(name),
            version=str(version),
            build=f"{build[0]}{build[1]}" if build else None,
            tags=frozenset(tags),
        )
        try:
            self._zip = zipfile.ZipFile(path)
        except (*_READ_ERRORS, ValueError) as exc:
            raise BadInputError(
                f"{path.name}: not a readable wheel ({_brief(exc)}); build it again"
            ) from None
        infos = [i for i in self._zip.infolist() if not i.is_dir()]
        self.names = [i.filename for i in infos]
        self._sizes = {i.filename: i.file_size for i in infos}
        for member in self.names:
            _check_member_name(path.name, member)
        if len(self._sizes) != len(self.names):
            twice = next(n for n in self.names if self.names.count(n) > 1)
            raise BadInputError(
                f"{path.name}: member {twice!r} is in the wheel twice; do not use this wheel"
            )
        dist_infos = sorted(
            {n.split("/")[0] for n in self.names if n.split("/")[0].endswith(".dist-info")}
        )
        if len(dist_infos) != 1:
            raise BadInputError(
                f"{path.name}: a wheel holds exactly one .dist-info directory, this one "
                f"holds {len(dist_infos)}; build it again"
            )
        self.dist_info = dist_infos[0]

    def __enter__(self) -> WheelInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def size(self, member: str) -> int:
        """The member's uncompressed size, as the zip directory declares it."""
        return self._sizes[member]

    def read(self, member: str) -> bytes:
        try:
            return self._zip.read(member)
        except _READ_ERRORS as exc:
            raise BadInputError(
                f"{self.label}: cannot read {member} ({_brief(exc)}); build it again"
            ) from None

    @contextmanager
    def stream(self, member: str) -> Iterator[IO[bytes]]:
        """The member as a file object."""
        try:
            with self._zip.open(member) as stream:
                yield stream
        except _READ_ERRORS as exc:
            raise BadInputError(
                f"{self.label}: cannot read {member} ({_brief(exc)}); build it again"
            ) from None

    def open(self, member: str) -> Iterator[bytes]:
        """The member's bytes in chunks."""
        try:
            with self._zip.open(member) as stream:
                while chunk := stream.read(1024 * 1024):
                    yield chunk
        except _READ_ERRORS as exc:
            raise BadInputError(
                f"{self.label}: cannot read {member} ({_brief(exc)}); build it again"
            ) from None

    def is_executable(self, member: str) -> bool:
        return bool((self._zip.getinfo(member).external_attr >> 16) & 0o111)

    def date_time(self) -> tuple[int, int, int, int, int, int]:
        """The newest entry time: a repaired wheel keeps its input's timestamps."""
        return max(i.date_time for i in self._zip.infolist())


#: What zipfile raises on a damaged, encrypted or oddly compressed member.
_READ_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


def _brief(exc: BaseException) -> str:
    """An error of zipfile's, in one short line (it may quote raw header bytes)."""
    text = str(exc).encode("ascii", "backslashreplace").decode().replace("\n", "\\n")
    return text if len(text) <= 160 else f"{text[:157]}..."


#: Characters no member name may hold: controls (a newline splits RECORD and messages).
_CONTROL = frozenset(chr(c) for c in (*range(32), 127))


def _check_member_name(label: str, member: str) -> None:
    """A member name that stays inside the folder it is unpacked in, on any system."""
    if len(member) > 1024:
        raise BadInputError(
            f"{label}: member {member[:80]!r}... has a name of {len(member)} characters; "
            "do not use this wheel"
        )
    parts = member.split("/")
    escapes = (
        member.startswith("/")
        or "\\" in member
        or any(p in ("", ".", "..") for p in parts)
        or (len(member) > 1 and member[1] == ":")  # a Windows drive
    )
    if escapes:
        raise BadInputError(f"{label}: member {member!r} escapes the wheel; do not use this wheel")
    if _CONTROL.intersection(member):
        raise BadInputError(
            f"{label}: member {member!r:.120} has a control character in its name; "
            "do not use this wheel"
        )
