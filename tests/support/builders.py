"""Build real conda packages (``.conda`` and ``.tar.bz2``) in code, for tests.

Independent of ``condawheel``: this is the test suite's own idea of what
conda-build / rattler-build produce, including hooks to produce broken or
hostile packages on purpose.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import posixpath
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from wheelmaker import record_hash

try:  # Python 3.14+
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    from backports import zstd

__all__ = ["PREFIX_PLACEHOLDER", "CondaPackageBuilder", "sha256_hex"]

# conda-build's host-prefix placeholder is padded to 255 characters so that
# binary replacement always has room; tests that exercise binary placeholders
# want exactly this shape.
_PLACEHOLDER_HEAD = "/home/conda/feedstock_root/build_artifacts/pkg_1700000000000/_h_env"
PREFIX_PLACEHOLDER = (_PLACEHOLDER_HEAD + "_placehold" * 25)[:255]

DEFAULT_TIMESTAMP = 1_700_000_000_000  # ms, fixed so that builds are reproducible
_UNSET: Any = object()

# conda's subdir -> index.json "arch": the suffix, except for the two legacy x86 names.
_ARCH_NAMES = {"32": "x86", "64": "x86_64"}

PathsJsonOverride = Mapping[str, Any] | Callable[[dict[str, Any]], dict[str, Any] | None]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _check_relative(path: str) -> str:
    # Hostile names go through add_raw_member; a bad name anywhere else is a test bug.
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path or not path:
        raise ValueError(f"not a clean relative path: {path!r} (use add_raw_member)")
    return pure.as_posix()


@dataclass(slots=True)
class _Entry:
    path: str
    kind: Literal["file", "symlink", "hardlink"]
    data: bytes = b""
    target: str = ""
    mode: int = 0o644
    prefix_placeholder: str | None = None
    file_mode: str = "text"
    no_link: bool = False


@dataclass(frozen=True, slots=True)
class _DistInfo:
    directory: str  # relative to the prefix
    site_packages: str


class CondaPackageBuilder:
    """A conda package under construction; ``build()`` writes it to disk."""

    def __init__(
        self,
        *,
        name: str,
        version: str,
        build: str = "0",
        build_number: int = 0,
        subdir: str | None = None,
        noarch: Literal["python", "generic"] | None = None,
        depends: Sequence[str] = (),
        constrains: Sequence[str] = (),
        license: str | None = None,
        timestamp: int = DEFAULT_TIMESTAMP,
        about: Mapping[str, Any] | None = None,
        python_version: str = "3.12",
        index_extra: Mapping[str, Any] | None = None,
    ) -> None:
        """``subdir`` defaults to "noarch" for noarch packages, else "linux-64"."""
        self.name, self.version, self.build_string = name, version, build
        self.build_number = build_number
        self.subdir = subdir or ("noarch" if noarch else "linux-64")
        self.noarch = noarch
        self.depends, self.constrains = list(depends), list(constrains)
        self.license, self.timestamp = license, timestamp
        self.about = dict(about or {})
        self.python_version = python_version
        self.index_extra = dict(index_extra or {})
        self._entries: dict[str, _Entry] = {}
        self._info: dict[str, bytes] = {}  # info/<relpath> -> bytes, beats generated files
        self._raw: list[tuple[tarfile.TarInfo, bytes]] = []
        self._dist_infos: list[_DistInfo] = []
        self._entry_points: list[str] = []
        self._link_json: dict[str, Any] | None = None
        self._wrong_sha: set[str] = set()
        self._missing: dict[str, bytes] = {}

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build_string}"

    @property
    def site_packages(self) -> str:
        """Where this package's Python files go, relative to the prefix."""
        if self.noarch == "python":
            return "site-packages"
        if self.subdir.startswith("win-"):
            return "Lib/site-packages"
        return f"lib/python{self.python_version}/site-packages"

    @property
    def scripts_dir(self) -> str:
        if self.noarch == "python":
            return "python-scripts"
        return "Scripts" if self.subdir.startswith("win-") else "bin"

    # -- content ---------------------------------------------------------------

    def _add(self, entry: _Entry) -> CondaPackageBuilder:
        entry.path = _check_relative(entry.path)
        if entry.path in self._entries:
            raise ValueError(f"{entry.path} added twice")
        if entry.path.startswith("info/"):
            raise ValueError("use add_info_file for info/ files")
        self._entries[entry.path] = entry
        return self

    def add_file(
        self,
        path: str,
        data: bytes | str,
        *,
        mode: int = 0o644,
        prefix_placeholder: str | None = None,
        file_mode: Literal["text", "binary"] = "text",
        no_link: bool = False,
    ) -> CondaPackageBuilder:
        """Add a regular file; ``prefix_placeholder`` marks it in paths.json."""
        entry = _Entry(path, "file", _as_bytes(data), mode=mode, no_link=no_link)
        entry.prefix_placeholder, entry.file_mode = prefix_placeholder, file_mode
        return self._add(entry)

    def add_symlink(self, path: str, target: str) -> CondaPackageBuilder:
        """Add a symlink; ``target`` is stored verbatim (usually relative)."""
        return self._add(_Entry(path, "symlink", target=target, mode=0o777))

    def add_hardlink(self, path: str, target: str) -> CondaPackageBuilder:
        """Add a tar hard link to ``target``, a file already added."""
        return self._add(_Entry(path, "hardlink", target=_check_relative(target)))

    def add_info_file(self, relpath: str, data: bytes | str) -> CondaPackageBuilder:
        """Add ``info/<relpath>``; replaces any generated file of that name."""
        self._info[_check_relative(relpath)] = _as_bytes(data)
        return self

    def set_link_json(self, data: Mapping[str, Any]) -> CondaPackageBuilder:
        self._link_json = dict(data)
        return self

    def set_run_exports(self, data: Mapping[str, Any]) -> CondaPackageBuilder:
        return self.add_info_file("run_exports.json", json.dumps(data, indent=2, sort_keys=True))

    def add_entry_points(self, entry_points: Iterable[str]) -> CondaPackageBuilder:
        """noarch: python console entry points ("name = mod:func") for info/link.json."""
        if self.noarch != "python":
            raise ValueError("entry points in link.json exist only for noarch: python")
        self._entry_points.extend(entry_points)
        return self

    def add_dist_info(
        self,
        dist_name: str,
        version: str,
        *,
        metadata_extra: str = "",
        entry_points: str | None = None,
        installer_files: bool = True,
    ) -> CondaPackageBuilder:
        """Add ``<site-packages>/<dist>-<version>.dist-info`` as pip leaves it in a build.

        RECORD is written at build() time so that it lists every file under
        site-packages with its real hash.
        """
        escaped = re.sub(r"[-_.]+", "_", dist_name)
        directory = f"{self.site_packages}/{escaped}-{version}.dist-info"
        metadata = f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n"
        if metadata_extra:
            metadata += metadata_extra.rstrip("\n") + "\n"
        files = {"METADATA": metadata.encode()}
        if entry_points is not None:
            files["entry_points.txt"] = entry_points.encode()
        if installer_files:
            files["INSTALLER"] = b"conda\n"
            files["REQUESTED"] = b""
            url = f"file:///home/conda/feedstock_root/build_artifacts/{self.name}_1/work"
            files["direct_url.json"] = json.dumps({"dir_info": {}, "url": url}).encode()
        for rel, data in files.items():
            self.add_file(f"{directory}/{rel}", data)
        self._dist_infos.append(_DistInfo(directory, self.site_packages))
        return self

    # -- hostile hooks ---------------------------------------------------------

    def add_raw_member(
        self,
        tarinfo_name: str,
        data: bytes | str = b"",
        type: bytes = tarfile.REGTYPE,
        linkname: str = "",
    ) -> CondaPackageBuilder:
        """Put a member with this exact name into the pkg tar, unlisted in paths.json."""
        mode = 0o777 if type == tarfile.SYMTYPE else 0o644
        member = self._member(
            tarinfo_name, _as_bytes(data), mode=mode, type=type, linkname=linkname
        )
        self._raw.append(member)
        return self

    def wrong_sha256_for(self, path: str) -> CondaPackageBuilder:
        """List a wrong sha256 for ``path`` in paths.json (the archive keeps the real bytes)."""
        self._wrong_sha.add(path)
        return self

    def list_missing(self, path: str, data: bytes | str = b"missing\n") -> CondaPackageBuilder:
        """List ``path`` in paths.json and info/files although the archive does not hold it."""
        self._missing[path] = _as_bytes(data)
        return self

    # -- metadata --------------------------------------------------------------

    def index_json(self) -> dict[str, Any]:
        platform, _, arch = self.subdir.partition("-")
        index: dict[str, Any] = {
            "arch": None if self.subdir == "noarch" else _ARCH_NAMES.get(arch, arch),
            "build": self.build_string,
            "build_number": self.build_number,
            "depends": self.depends,
            "name": self.name,
            "platform": None if self.subdir == "noarch" else platform,
            "subdir": self.subdir,
            "timestamp": self.timestamp,
            "version": self.version,
        }
        if self.constrains:  # conda-build omits the key when empty
            index["constrains"] = self.constrains
        if self.license is not None:
            index["license"] = self.license
        if self.noarch:
            index["noarch"] = self.noarch
        return {**index, **self.index_extra}

    def about_json(self) -> dict[str, Any]:
        base: dict[str, Any] = {"license": self.license} if self.license is not None else {}
        return {**base, **self.about}

    def _link_json_data(self) -> dict[str, Any] | None:
        if self._link_json is not None or not self.noarch:
            return self._link_json
        noarch: dict[str, Any] = {"type": self.noarch}
        if self._entry_points:  # conda-build writes the key only when there are some
            noarch["entry_points"] = self._entry_points
        return {"noarch": noarch, "package_metadata_version": 1}

    def _records(self) -> dict[str, bytes]:
        """RECORD files of the dist-infos, from the final site-packages content."""
        records = {}
        dist_dirs = {d.directory for d in self._dist_infos}
        for dist in self._dist_infos:
            rows = []
            for path, entry in sorted(self._entries.items()):
                if not path.startswith(dist.site_packages + "/") or entry.kind != "file":
                    continue
                if any(path.startswith(d + "/") for d in dist_dirs - {dist.directory}):
                    continue
                rel = path[len(dist.site_packages) + 1 :]
                rows.append(f"{rel},{record_hash(entry.data)},{len(entry.data)}")
            record = f"{dist.directory[len(dist.site_packages) + 1 :]}/RECORD"
            rows.append(f"{record},,")
            records[f"{dist.directory}/RECORD"] = ("\n".join(sorted(rows)) + "\n").encode()
        return records

    def _resolve(self, path: str, entries: Mapping[str, _Entry], depth: int = 0) -> bytes | None:
        # conda-build hashes what a link resolves to, if it resolves inside the package.
        entry = entries.get(path)
        if entry is None or depth > 40:
            return None
        if entry.kind == "file":
            return entry.data
        if entry.kind == "hardlink":
            return self._resolve(entry.target, entries, depth + 1)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), entry.target))
        return self._resolve(resolved, entries, depth + 1)

    def _paths_json(self, entries: Mapping[str, _Entry]) -> dict[str, Any]:
        if unknown := self._wrong_sha - set(entries):
            raise ValueError(f"wrong_sha256_for: no such path {sorted(unknown)}")
        paths = []
        for path, entry in sorted(entries.items()):
            content = self._resolve(path, entries)
            item: dict[str, Any] = {
                "_path": path,
                "path_type": "softlink" if entry.kind == "symlink" else "hardlink",
            }
            if content is None:  # dangling or external link: conda-build hashes the target text
                item["sha256"], item["size_in_bytes"] = sha256_hex(entry.target.encode()), 0
            else:
                item["sha256"], item["size_in_bytes"] = sha256_hex(content), len(content)
            if path in self._wrong_sha:
                item["sha256"] = sha256_hex(b"not the content of " + path.encode())
            if entry.prefix_placeholder is not None:
                item["prefix_placeholder"] = entry.prefix_placeholder
                item["file_mode"] = entry.file_mode
            if entry.no_link:
                item["no_link"] = True
            paths.append(item)
        for path, data in sorted(self._missing.items()):
            item = {"_path": path, "path_type": "hardlink", "size_in_bytes": len(data)}
            paths.append({**item, "sha256": sha256_hex(data)})
        paths.sort(key=lambda p: p["_path"])
        return {"paths": paths, "paths_version": 1}

    # -- output ----------------------------------------------------------------

    def build(
        self,
        out_dir: Path,
        fmt: Literal["conda", "tar.bz2"] = "conda",
        *,
        paths_json_override: PathsJsonOverride | None = None,
        index_json_override: bytes | Mapping[str, Any] | None = _UNSET,
        omit_paths_json: bool = False,
    ) -> Path:
        """Write ``{out_dir}/{name}-{version}-{build}.{fmt}`` and return its path.

        ``index_json_override=None`` omits index.json; bytes are written verbatim.
        ``paths_json_override`` is a dict replacing paths.json or a callable that
        edits (or returns) the generated one.
        """
        entries = dict(self._entries)
        for path, data in self._records().items():
            entries[path] = _Entry(path, "file", data)

        info: dict[str, bytes] = {}
        if index_json_override is _UNSET:
            info["index.json"] = _dump(self.index_json())
        elif isinstance(index_json_override, bytes):
            info["index.json"] = index_json_override
        elif index_json_override is not None:
            info["index.json"] = _dump(index_json_override)
        info["about.json"] = _dump(self.about_json())
        paths = self._paths_json(entries)
        if callable(paths_json_override):
            paths = paths_json_override(paths) or paths
        elif paths_json_override is not None:
            paths = dict(paths_json_override)
        if not omit_paths_json:
            info["paths.json"] = _dump(paths)
        listed = sorted([*entries, *self._missing])
        info["files"] = ("\n".join(listed) + "\n").encode() if listed else b""
        if (link := self._link_json_data()) is not None:
            info["link.json"] = _dump(link)
        info.update(self._info)

        info_members = [self._member(f"info/{k}", v) for k, v in sorted(info.items())]
        pkg_members = self._pkg_members(entries)
        out_dir.mkdir(parents=True, exist_ok=True)
        if fmt == "conda":
            return self._write_conda(out_dir, info_members, pkg_members)
        if fmt == "tar.bz2":
            target = out_dir / f"{self.stem}.tar.bz2"
            # compresslevel and the fixed tar headers make the bytes reproducible
            target.write_bytes(bz2.compress(_tar([*info_members, *pkg_members]), 9))
            return target
        raise ValueError(f"unknown format {fmt!r}")

    def _member(
        self,
        name: str,
        data: bytes = b"",
        *,
        mode: int = 0o644,
        type: bytes = tarfile.REGTYPE,
        linkname: str = "",
    ) -> tuple[tarfile.TarInfo, bytes]:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode = type, linkname, mode
        info.size = len(data) if type == tarfile.REGTYPE else 0
        info.mtime = self.timestamp // 1000
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info, data

    def _pkg_members(self, entries: Mapping[str, _Entry]) -> list[tuple[tarfile.TarInfo, bytes]]:
        members, links = [], []
        for path, entry in sorted(entries.items()):
            if entry.kind == "file":
                members.append(self._member(path, entry.data, mode=entry.mode))
            elif entry.kind == "symlink":
                members.append(
                    self._member(path, mode=0o777, type=tarfile.SYMTYPE, linkname=entry.target)
                )
            else:
                links.append(self._member(path, type=tarfile.LNKTYPE, linkname=entry.target))
        # Hard links come after everything else: extraction needs their target first.
        return [*members, *links, *self._raw]

    def _write_conda(
        self,
        out_dir: Path,
        info: list[tuple[tarfile.TarInfo, bytes]],
        pkg: list[tuple[tarfile.TarInfo, bytes]],
    ) -> Path:
        # Written by hand rather than with conda_package_streaming.create.conda_builder:
        # that routes any "info/..." name to the info tar (so a raw member could not be
        # planted in pkg) and stamps zip entries with the current time.
        target = out_dir / f"{self.stem}.conda"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, data in (
                ("metadata.json", json.dumps({"conda_pkg_format_version": 2}).encode()),
                (f"pkg-{self.stem}.tar.zst", zstd.compress(_tar(pkg), 3)),
                (f"info-{self.stem}.tar.zst", zstd.compress(_tar(info), 3)),
            ):
                zinfo = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 22, 13, 20))
                zinfo.external_attr = 0o644 << 16
                zf.writestr(zinfo, data)
        return target


def _dump(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode()


def _tar(members: Iterable[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buffer.getvalue()


def move_to_end(package: Path, names: Iterable[str]) -> Path:
    """Rewrite a .tar.bz2 so that the members ``names`` follow the payload, as old
    tools wrote `info/` files."""
    last = set(names)
    with tarfile.open(package, "r:bz2") as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]
    ordered = [m for m in members if m[0].name not in last] + [
        m for m in members if m[0].name in last
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as out:
        for member, data in ordered:
            out.addfile(member, io.BytesIO(data))
    package.write_bytes(bz2.compress(buffer.getvalue()))
    return package
