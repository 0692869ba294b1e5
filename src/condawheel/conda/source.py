"""Reading a `.conda` or `.tar.bz2` package member by member, never extracting it.

All archive decoding goes through conda-package-streaming (`.tar.bz2` decompressed by
indexed_bzip2, see `bz2_stream`). This module adds what a
converter needs on top: the two components in the right order, member paths that
cannot escape the package, and one clear error for every way an archive can be broken.
"""

from __future__ import annotations

import enum
import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from conda_package_streaming.package_streaming import stream_conda_component

from condawheel.conda.bz2_stream import bz2_members
from condawheel.conda.package import UNTRUSTED, clean_path
from condawheel.exceptions import BadInputError
from condawheel.quoting import quote
from condawheel.streams import Readable

try:  # pragma: no cover - which module exists depends on the Python version
    from compression.zstd import ZstdError  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    from backports.zstd import ZstdError

#: `info/` members the converter reads; the rest (recipe, tests) are never held.
_WANTED_INFO = frozenset(
    {
        "index.json",
        "about.json",
        "link.json",
        "paths.json",
        "run_exports.json",
        "files",
        "has_prefix",
        "no_link",
    }
)
#: A sane bound for one metadata file, so a hostile package cannot exhaust memory;
#: paths.json and files list every file of the package, the others are small.
_MAX_INFO_BYTES = {"paths.json": 256 * 1024 * 1024, "files": 256 * 1024 * 1024}
_MAX_OTHER_INFO_BYTES = 16 * 1024 * 1024

_ARCHIVE_ERRORS = (
    OSError,
    # zipfile's refusals of an encrypted entry or an unknown method or version.
    RuntimeError,
    OverflowError,
    EOFError,
    tarfile.TarError,
    zipfile.BadZipFile,
    ZstdError,
    LookupError,
    ValueError,
)

SUFFIXES = (".conda", ".tar.bz2")
_SKIP_CHUNK = 1024 * 1024


class MemberKind(enum.Enum):
    FILE = "file"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """One payload member. ``stream`` is only readable until the next member is read."""

    path: str
    kind: MemberKind
    mode: int
    size: int
    #: Symlink: the target as written in the archive. Hardlink: the package path it names.
    link_target: str | None
    stream: Readable | None


def is_conda_package(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


class PackageSource:
    """A conda package on disk, read by streaming.

    ``read_info()`` returns the `info/` files; ``members()`` yields the payload. A
    `.conda` keeps them in separate components, so each is read once. A `.tar.bz2`
    is read once when `index.json` and `paths.json` come before the payload, as
    current tools write it: the payload pass goes on from there, and `info/` files
    met later land in ``info_files`` (complete once ``members()`` is exhausted).
    Otherwise it is read twice: a second bzip2 pass is cheaper than holding or
    extracting the payload.
    """

    def __init__(
        self, path: Path, *, on_read: Callable[[int], None] | None = None, threads: int = 1
    ) -> None:
        """``threads`` may decode a large `.tar.bz2` at once."""
        if not is_conda_package(path):
            raise BadInputError(
                f"{path}: not a conda package: expected a file ending in .conda or .tar.bz2"
            )
        if not path.is_file():
            raise BadInputError(f"{path}: no such file")
        self.path = path
        self.size = path.stat().st_size
        self._on_read = on_read
        self._threads = threads
        self._is_conda = path.name.endswith(".conda")
        #: Every wanted `info/` file read so far (see `release_info`).
        self.info_files: dict[str, bytes] = {}
        #: The names of every wanted `info/` file read so far, released or not.
        self.info_names: set[str] = set()
        #: A `.tar.bz2` stream stopped at its first payload member, to go on from.
        self._resume: Iterator[tuple[tarfile.TarFile, Any]] | None = None
        self._pending: tuple[tarfile.TarFile, Any] | None = None

    @property
    def label(self) -> str:
        return self.path.name

    def read_info(self) -> dict[str, bytes]:
        """The wanted `info/` files, keyed by their path relative to `info/`."""
        with self._errors():
            stream = self._stream("info")
            for tar, member in stream:
                name = clean_path(self.label, member.name)
                if name.startswith("info/") or member.isdir():
                    self._keep_info(tar, member, name)
                elif not self._is_conda and self._has_plan_info():
                    self._resume, self._pending = stream, (tar, member)
                    break
        return dict(self.info_files)

    def release_info(self) -> None:
        """Forget the bytes of paths.json, the one `info/` file that grows with the
        package (tens of MB for 100,000 files), once the caller holds what it needs of
        it. It never follows the payload: `read_info` reads on until it has it."""
        self.info_files.pop("paths.json", None)

    def _has_plan_info(self) -> bool:
        """Whether what a conversion plans from (`index.json`, `paths.json`) is read.
        A legacy `info/files` list is not enough: a `paths.json` may still follow."""
        return "index.json" in self.info_files and "paths.json" in self.info_files

    def _keep_info(self, tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> None:
        if not name.startswith("info/") or not member.isfile():
            return
        rel = name.removeprefix("info/")
        if rel == "LICENSE.txt":  # where conda-build 2 kept the licence
            rel = "licenses/LICENSE.txt"
        if rel in _WANTED_INFO or rel.startswith("licenses/"):
            limit = _MAX_INFO_BYTES.get(rel, _MAX_OTHER_INFO_BYTES)
            if member.size > limit:
                raise BadInputError(
                    f"{self.label}: info/{rel} is implausibly large ({member.size} bytes, "
                    f"more than {limit}): the package is damaged; download or build it again"
                )
            fileobj = tar.extractfile(member)
            self.info_files[rel] = _read_whole(fileobj) if fileobj else b""
            self.info_names.add(rel)

    def members(self) -> Iterator[Member]:
        """Yield the payload members in archive order, directories left out."""
        with self._errors():
            for tar, member in self._payload_stream():
                path = clean_path(self.label, member.name)
                if path == "info" or path.startswith("info/"):
                    if self._resume is not None:
                        self._keep_info(tar, member, path)
                    continue
                if not member.isdir():
                    yield self._member(tar, member, path)
        if self._on_read:  # a .conda's payload ends before its info component
            self._on_read(self.size)

    def _payload_stream(self) -> Iterator[tuple[tarfile.TarFile, Any]]:
        if self._resume is None or self._pending is None:
            yield from self._stream("pkg")
            return
        yield self._pending
        yield from self._resume

    def _member(self, tar: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> Member:
        if member.issym():
            _check_symlink(self.label, path, member.linkname)
            return Member(
                path=path,
                kind=MemberKind.SYMLINK,
                mode=member.mode,
                size=0,
                # Some archives lose link targets; paths.json then says what it was.
                link_target=member.linkname or None,
                stream=None,
            )
        if member.islnk():
            try:
                target = clean_path(self.label, member.linkname)
            except BadInputError:
                raise BadInputError(
                    f"{self.label}: hard link {quote(path)} -> {quote(member.linkname)} "
                    f"points outside the package; {UNTRUSTED}"
                ) from None
            return Member(
                path=path,
                kind=MemberKind.HARDLINK,
                mode=member.mode,
                size=0,
                link_target=target,
                stream=None,
            )
        if not member.isfile():
            raise BadInputError(
                f"{self.label}: member {quote(path)} is a device, FIFO or other special file, "
                "which a package cannot install; rebuild the package without it"
            )
        raw = tar.extractfile(member)
        return Member(
            path=path,
            kind=MemberKind.FILE,
            mode=member.mode,
            size=member.size,
            link_target=None,
            stream=_GuardedReader(raw, self.label) if raw else io.BytesIO(),
        )

    def _stream(self, component: str) -> Iterator[tuple[tarfile.TarFile, Any]]:
        with self.path.open("rb") as raw:
            fileobj = _CountingReader(raw, self._on_read)
            if not self._is_conda:
                members = bz2_members(fileobj, size=self.size, threads=self._threads)
                try:
                    yield from _bounded(members)
                finally:
                    members.close()  # the decoder stops before its file closes
                return
            fileobj.active = False  # opening the zip reads its end first
            with zipfile.ZipFile(fileobj) as archive:
                fileobj.active = True
                stem = self._conda_stem(archive)
                # Components are found by the stem inside the archive, not the file
                # name, so that a renamed package still reads.
                yield from _bounded(
                    stream_conda_component(f"{stem}.conda", fileobj, component, zf=archive)
                )

    def _conda_stem(self, archive: zipfile.ZipFile) -> str:
        names = archive.namelist()
        stems = {}
        for kind in ("info", "pkg"):
            found = [n for n in names if n.startswith(f"{kind}-")]
            if len(found) != 1 or not found[0].endswith(".tar.zst"):
                raise BadInputError(
                    f"{self.label}: a .conda holds exactly one {kind}-*.tar.zst component, "
                    f"this one holds {', '.join(found) or 'none'}: the archive is damaged; "
                    "download or build it again"
                )
            stems[kind] = found[0].removeprefix(f"{kind}-").removesuffix(".tar.zst")
        if stems["info"] != stems["pkg"]:
            raise BadInputError(
                f"{self.label}: its info and pkg components name different packages "
                f"({stems['info']}, {stems['pkg']}): the archive is damaged; build it again"
            )
        return stems["info"]

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except BadInputError:
            raise
        except _ARCHIVE_ERRORS as exc:
            raise BadInputError(_archive_message(self.label, exc)) from None


def _read_whole(stream: IO[bytes]) -> bytes:
    """A member's bytes, read a chunk at a time: tarfile reading a stream's member at
    once holds three copies of it (its blocks, their join and a slice of that), 60 MB
    at once for the paths.json of 100,000 files."""
    buffer = io.BytesIO()
    while chunk := stream.read(_SKIP_CHUNK):
        buffer.write(chunk)
    return buffer.getvalue()  # the buffer's own bytes, not a copy


def _bounded(
    members: Iterator[tuple[tarfile.TarFile, Any]],
) -> Iterator[tuple[tarfile.TarFile, Any]]:
    """The members, each one's data read to its end before the next header is read.

    In stream mode tarfile skips what a reader left unread by decompressing forward,
    block by block, to where the header says the data ends, past the end of the stream
    if need be: a PAX ``size`` of 10**18 on a small member would run for years. Read
    here, a size beyond what the stream holds ends at the real end, as an error.
    """
    for tar, member in members:
        yield tar, member
        # tarfile keeps every header it has read (for random access we never use):
        # dropped here, memory stays flat in the number of members.
        tar.members.clear()  # type: ignore[attr-defined]  # an attribute typeshed omits
        stream = tar.fileobj
        assert stream is not None
        remaining = tar.offset - stream.tell()
        while remaining > 0:
            chunk = stream.read(min(remaining, _SKIP_CHUNK))
            if not chunk:
                raise tarfile.ReadError(
                    f"member {quote(member.name)} claims {member.size} bytes, "
                    "more than the archive holds"
                )
            remaining -= len(chunk)


def _archive_message(label: str, exc: BaseException) -> str:
    detail = str(exc).strip() or type(exc).__name__
    return (
        f"{label}: not a readable conda package ({detail}): the archive is corrupt or "
        "truncated; download or build it again"
    )


def _check_symlink(label: str, path: str, target: str) -> None:
    if PurePosixPath(target).is_absolute() or target.startswith("\\"):
        raise BadInputError(
            f"{label}: symlink {quote(path)} points to absolute path {quote(target)}, outside the "
            f"package; {UNTRUSTED}"
        )
    depth = len(PurePosixPath(path).parent.parts)
    for part in PurePosixPath(target.replace("\\", "/")).parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            raise BadInputError(
                f"{label}: symlink {quote(path)} -> {quote(target)} escapes the package; "
                + UNTRUSTED
            )


class _CountingReader(io.RawIOBase):
    """Reports how far into the archive a pass has read, for progress bars."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_read = on_read
        self.active = True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if n and self._on_read and self.active:
            self._on_read(self._raw.tell())
        return int(n or 0)


class _GuardedReader:
    """A member stream whose decoding failures become BadInputError, since the
    consumer, not the source, is the one that reads the (possibly broken) bytes."""

    def __init__(self, raw: IO[bytes], label: str) -> None:
        self._raw = raw
        self._label = label

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except _ARCHIVE_ERRORS as exc:
            raise BadInputError(_archive_message(self._label, exc)) from None
