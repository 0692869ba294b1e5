"""Streaming the payload of a package into the wheel, member by member.

Each file is read once from the archive and written once to the zip. On the way its
hash is checked against `paths.json`, binaries are held on disk (`held`) to be read and
maybe edited, and small scripts are held back until entry points are known. Links are
resolved at the end, when every file they could name has been written.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO

from condawheel.binaries import BinaryReadError, read_binary, sniff
from condawheel.binaries.model import BinaryFormat
from condawheel.conda.package import CondaPackage
from condawheel.conda.path_table import PathEntry, PathType
from condawheel.conda.source import Member, MemberKind, PackageSource
from condawheel.conversion.held import HeldBinaries
from condawheel.conversion.layout import Destination, Scheme, is_wheel_data_path
from condawheel.conversion.metadata import check_own_metadata, script_names
from condawheel.conversion.payload_links import write_links
from condawheel.conversion.payload_state import PayloadState, PrefixRecord, written
from condawheel.conversion.plan import Plan
from condawheel.conversion.scripts import rewrite_shebang
from condawheel.conversion.tags import FoundBinary
from condawheel.exceptions import BadInputError
from condawheel.streams import Prefixed
from condawheel.wheel.writer import Sink

#: Scripts up to this size wait in memory until the entry point names are known.
_HELD_SCRIPT_BYTES = 1024 * 1024
_MAX_METADATA_BYTES = 64 * 1024 * 1024
_SNIFF_BYTES = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Payload:
    """What streaming the payload found."""

    binaries: tuple[FoundBinary, ...]
    #: Paths written at the wheel root (site-packages relative).
    root_files: tuple[str, ...]
    #: The package's own metadata directory, file by file.
    metadata_files: Mapping[str, bytes]
    prefix_records: tuple[PrefixRecord, ...]
    file_count: int
    #: How many files went to the root, scripts and data.
    files_by_scheme: Mapping[str, int]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    def without_placeholders(self, cleared: Iterable[str]) -> Payload:
        """The payload without prefix records for the binaries ``cleared``, which hold no
        build prefix (it may have been in their search path only): nothing to rewrite."""
        gone = set(cleared)
        if not gone:
            return self
        return replace(
            self,
            prefix_records=tuple(r for r in self.prefix_records if r.path not in gone),
            notes=(
                *self.notes,
                *(f"{p}: holds no build prefix to rewrite; left out of prefix.json"
                  for p in sorted(gone)),
            ),
        )  # fmt: skip

    def without(self, removed: Sequence[str]) -> Payload:
        """The payload after de-vendoring removed ``removed`` from the wheel root."""
        if not removed:
            return self
        gone = set(removed)
        by_scheme = dict(self.files_by_scheme)
        by_scheme[Scheme.ROOT.value] -= len(gone)
        return replace(
            self,
            binaries=tuple(b for b in self.binaries if b.path not in gone),
            root_files=tuple(f for f in self.root_files if f not in gone),
            prefix_records=tuple(r for r in self.prefix_records if r.path not in gone),
            file_count=self.file_count - len(gone),
            files_by_scheme=by_scheme,
            notes=(
                *self.notes,
                *(f"{p}: a vendored copy of a conda library; removed" for p in removed),
            ),
        )


# A namespace package's sub-packages are the outermost packages that can carry the block.
_PACKAGE_INIT = re.compile(r"^(?:[^/.]+/)+__init__\.py$")


class PayloadWriter:
    """Writes one package's payload into a wheel sink, following a plan."""

    def __init__(
        self, plan: Plan, sink: Sink, held: HeldBinaries, *, hold_inits: bool = False
    ) -> None:
        """``hold_inits``: hold the packages' ``__init__.py`` with the binaries,
        for a standalone Windows wheel's loader patch."""
        self.plan = plan
        self._hold_inits = hold_inits
        self.sink = sink
        self.label = plan.package.filename
        self._paths = plan.package.paths
        self._state = PayloadState()
        self._held = held

    def _arcname_of(self, path: str) -> str:
        """The name in the wheel of what was written from the conda path ``path``."""
        return self.arcname(self.plan.layout.destination(path))

    def arcname(self, destination: Destination) -> str:
        if destination.scheme is Scheme.ROOT:
            return destination.path
        return f"{self.plan.dist.data}/{destination.scheme.value}/{destination.path}"

    def run(self, source: PackageSource) -> Payload:
        state = self._state
        for member in source.members():
            self._member(member)
        if source.info_names != self.plan.package.info_keys:
            # Some `info/` files followed the payload (an old .tar.bz2): read them now,
            # with the paths already parsed (their bytes are let go of).
            package = CondaPackage.from_info(self.label, source.info_files)
            package = replace(
                package, paths=self.plan.package.paths, info_keys=frozenset(source.info_names)
            )
            self.plan = replace(self.plan, package=package)
        self._check_missing()
        self._write_held_scripts()
        write_links(
            self._state,
            label=self.label,
            layout=self.plan.layout,
            entry_of=self._entry,
            copy=self._copy,
        )
        return Payload(
            binaries=tuple(state.binaries[k] for k in sorted(state.binaries)),
            root_files=tuple(
                sorted(
                    self._arcname_of(path)
                    for path, how in state.written.items()
                    if how.scheme is Scheme.ROOT
                )
            ),
            metadata_files=dict(sorted(state.metadata.items())),
            prefix_records=tuple(sorted(state.prefix, key=lambda r: r.path)),
            file_count=len(state.written),
            files_by_scheme=dict(
                sorted(Counter(w.scheme.value for w in state.written.values()).items())
            ),
            warnings=tuple(state.warnings),
            notes=tuple(state.notes),
        )

    def _entry(self, path: str) -> PathEntry | None:
        return self._paths.get(path) if self._paths is not None else None

    def _member(self, member: Member) -> None:
        state = self._state
        if self._paths is not None and member.path not in self._paths:
            state.warnings.append(
                f"{member.path}: in the archive but not in info/paths.json, so conda would "
                "not install it; left out"
            )
            return
        if member.path in state.seen or member.path in state.written:
            raise BadInputError(f"{self.label}: {member.path!r} appears twice in the archive")
        self._take(member)
        if member.path not in state.written:  # `written` remembers the rest
            state.seen.add(member.path)

    def _take(self, member: Member) -> None:
        state = self._state
        destination = self.plan.layout.destination(member.path)
        if member.kind is not MemberKind.FILE:
            state.links.append(member)
            return
        entry = self._entry(member.path)
        if entry is not None and entry.path_type is PathType.SYMLINK and member.size == 0:
            # Some archives store a symlink as an empty file; paths.json still names the
            # target's content, so the link is restored from the file with that hash.
            state.links.append(replace(member, kind=MemberKind.SYMLINK, link_target=None))
            return
        if destination.scheme is Scheme.DROP:
            if is_wheel_data_path(destination.path):
                state.warnings.append(
                    f"{member.path}: a wheel's .data folder inside site-packages, which "
                    "installers would take for this wheel's own; left out"
                )
            else:
                state.notes.append(
                    f"{member.path}: bytecode or another distribution's metadata; left out"
                )
            return
        assert member.stream is not None
        if destination.scheme is Scheme.METADATA:
            data = self._read_small(member, _MAX_METADATA_BYTES)
            check_own_metadata(
                self.label, destination.path or "PKG-INFO", data, dist_name=self.plan.dist.name
            )
            state.metadata[destination.path or "PKG-INFO"] = data
            return
        if destination.scheme is Scheme.SCRIPTS and member.size <= _HELD_SCRIPT_BYTES:
            state.held[member.path] = (
                member,
                self._read_small(member, _HELD_SCRIPT_BYTES),
                destination,
            )
            return
        self._stream_file(member, destination)

    def _read_small(self, member: Member, limit: int) -> bytes:
        assert member.stream is not None
        if member.size > limit:
            raise BadInputError(
                f"{self.label}: {member.path} is implausibly large ({member.size} bytes)"
            )
        data = member.stream.read()
        self._verify(member.path, hashlib.sha256(data).hexdigest(), len(data))
        return data

    def _stream_file(self, member: Member, destination: Destination) -> None:
        assert member.stream is not None
        head = member.stream.read(_SNIFF_BYTES)
        fmt = sniff(head)
        if fmt is not None:
            self._hold_binary(member, destination, head, fmt)
            return
        arcname = self.arcname(destination)
        executable = bool(member.mode & 0o111)
        if self._hold_inits and _PACKAGE_INIT.match(arcname):
            _, sha256, size = self._held.hold(
                arcname, Prefixed(head, member.stream), executable=executable
            )
            self._verify(member.path, sha256, size)
            self._record(member.path, arcname, executable, destination.scheme, checked=True)
            return
        record = self.sink.write_stream(
            arcname, Prefixed(head, member.stream), executable=executable, size_hint=member.size
        )
        self._verify(member.path, record.sha256, record.size)
        self._record(member.path, arcname, executable, destination.scheme, checked=True)

    def _hold_binary(
        self, member: Member, destination: Destination, head: bytes, fmt: BinaryFormat
    ) -> None:
        """A binary waits on disk: de-vendoring may remove or edit it, and a search path
        naming the build machine's folders is edited wherever the binary lands."""
        assert member.stream is not None
        arcname = self.arcname(destination)
        executable = bool(member.mode & 0o111)
        path, sha256, size = self._held.hold(
            arcname, Prefixed(head, member.stream), executable=executable
        )
        self._verify(member.path, sha256, size)
        with path.open("rb") as stream:
            self._read_binary(member.path, arcname, destination, stream, fmt)
        self._record(member.path, arcname, executable, destination.scheme, checked=True)

    def _read_binary(
        self,
        path: str,
        arcname: str,
        destination: Destination,
        spool: BinaryIO,
        fmt: BinaryFormat,
    ) -> None:
        spool.seek(0)
        try:
            info = read_binary(spool, fmt)
        except BinaryReadError as exc:
            if fmt is not BinaryFormat.PE:  # "MZ" starts many files that are not PE
                self._state.warnings.append(f"{path}: looks like a binary but {exc}; kept as data")
            return
        self._state.binaries[path] = FoundBinary(
            path=arcname, in_root=destination.scheme is Scheme.ROOT, info=info
        )

    def _record(
        self, path: str, arcname: str, executable: bool, scheme: Scheme, *, checked: bool = False
    ) -> None:
        self._state.written[path] = written(executable, scheme, checked)
        entry = self._entry(path)
        if entry is not None and entry.prefix_placeholder:
            self._state.prefix.append(
                PrefixRecord(
                    path=arcname,
                    conda_path=path,
                    placeholder=entry.prefix_placeholder,
                    mode=entry.file_mode,
                )
            )

    def _verify(self, path: str, sha256: str, size: int) -> None:
        entry = self._entry(path)
        if entry is None:
            return
        if (entry.sha256 and entry.sha256.hex() != sha256) or (
            entry.size is not None and entry.size != size
        ):
            raise BadInputError(
                f"{self.label}: {path} does not match its sha256/size in info/paths.json: "
                "the package is corrupt or was altered; download or build it again"
            )

    def _check_missing(self) -> None:
        if self._paths is None:
            return
        missing = [
            p
            for p, e in self._paths.items()
            if e.path_type is not PathType.DIRECTORY
            and p not in self._state.seen
            and p not in self._state.written
        ]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise BadInputError(
                f"{self.label}: info/paths.json lists {missing[0]}{more}, which the archive "
                "does not hold: the package is incomplete; download or build it again"
            )

    def _write_held_scripts(self) -> None:
        state = self._state
        generated = script_names(
            state.metadata.get("entry_points.txt"), self.plan.package.entry_points
        )
        for path in sorted(state.held):
            member, data, destination = state.held[path]
            if _wrapper_name(destination.path, self.plan.package.is_windows) in generated:
                state.notes.append(
                    f"{path}: conda's entry-point wrapper; the installer writes its own"
                )
                continue
            entry = self._entry(path)
            placeholder = entry.prefix_placeholder if entry else None
            rewritten = rewrite_shebang(data, placeholder)
            arcname = self.arcname(destination)
            executable = bool(member.mode & 0o111)
            fmt = sniff(data[:_SNIFF_BYTES])
            if fmt is not None:  # a compiled program: held, like every binary
                self._held.hold(arcname, io.BytesIO(data), executable=executable)
                self._read_binary(path, arcname, destination, io.BytesIO(data), fmt)
            else:
                self.sink.write_bytes(
                    arcname, rewritten if rewritten is not None else data, executable=executable
                )
            state.written[path] = written(executable, destination.scheme)
            still_prefixed = placeholder is not None and (
                rewritten is None or placeholder.encode() in rewritten
            )
            if still_prefixed:
                self._record(path, arcname, executable, destination.scheme)

    def _copy(self, path: str, source: str, destination: Destination) -> None:
        executable = self._state.written[source].executable
        arcname = self.arcname(destination)
        if self.sink.has(arcname) or arcname in self._held:
            return
        source_arcname = self._arcname_of(source)
        if source_arcname in self._held:
            self._held.alias(source_arcname, arcname)
        else:
            self.sink.copy(source_arcname, arcname, executable=executable)
        self._state.written[path] = written(executable, destination.scheme)
        for record in list(self._state.prefix):
            if record.conda_path == source:
                self._state.prefix.append(
                    PrefixRecord(
                        path=arcname,
                        conda_path=path,
                        placeholder=record.placeholder,
                        mode=record.mode,
                    )
                )


def _wrapper_name(script: str, windows: bool) -> str:
    if windows:
        for suffix in ("-script.pyw", "-script.py", ".exe.manifest", ".exe"):
            if script.lower().endswith(suffix):
                return script[: -len(suffix)]
    return script
