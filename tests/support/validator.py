"""An independent wheel validator (and installer) for every wheel a test produces.

It re-derives what a correct wheel must look like from the wheel spec and
design.md section 2 without importing ``condawheel``, so that it can act as an
oracle. ``validate_wheel`` collects every problem and raises one AssertionError
listing them all.
"""

from __future__ import annotations

import csv
import email.parser
import fnmatch
import io
import re
import stat
import sys
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import Metadata
from packaging.tags import Tag, parse_tag
from packaging.utils import (
    BuildTag,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from wheelmaker import record_hash

__all__ = ["SCHEME_KEYS", "WheelReport", "install_wheel", "validate_wheel"]

SCHEME_KEYS = ("purelib", "platlib", "headers", "scripts", "data")

_LINUX = (
    r"(?:linux|manylinux1|manylinux2010|manylinux2014"
    r"|manylinux_\d+_\d+|musllinux_\d+_\d+|conda_linux_\d+_\d+)"
)
_LINUX_ARCHES = "x86_64|i686|aarch64|armv7l|ppc64le|ppc64|s390x|riscv64"
_LINUX_TAG = re.compile(rf"^{_LINUX}_({_LINUX_ARCHES})$")
_MAC_TAG = re.compile(
    r"^(?:macosx|conda_macosx)_\d+_\d+_(x86_64|arm64|universal2|universal|intel)$"
)
_WIN_TAG = {"win32": "x86", "win_amd64": "amd64", "win_arm64": "arm64"}

# e_machine -> the arch names a platform tag may use for it (EM_PPC64, 21, is special-cased)
_ELF_MACHINES = {
    3: {"i686"},
    62: {"x86_64"},
    183: {"aarch64"},
    40: {"armv7l"},
    22: {"s390x"},
    243: {"riscv64"},
}
_MACHO_CPUS = {0x01000007: "x86_64", 0x0100000C: "arm64", 7: "i386"}
_PE_MACHINES = {0x8664: "amd64", 0x14C: "x86", 0xAA64: "arm64"}

_EXTENSION_ABI = [
    (re.compile(r"\.cpython-3(\d+)(t?)-[^/]+\.so$"), "cp3{0}{1}"),
    (re.compile(r"\.cp3(\d+)(t?)-win(?:32|_amd64|_arm64)\.pyd$"), "cp3{0}{1}"),
    (re.compile(r"\.abi3\.so$"), "abi3"),
]
# Pure-Python tools ship Windows launcher templates (setuptools' cli-64.exe,
# distlib's t64.exe) that are data to them, never loaded: they say nothing about tags.
_LAUNCHER = re.compile(r"(?:^|/)(?:(?:cli|gui)(?:-(?:32|64|arm64))?|[tw](?:32|64)(?:-arm)?)\.exe$")


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelReport:
    """What a valid wheel holds; ``binaries`` maps member -> "elf" | "macho" | "pe"."""

    name: NormalizedName
    version: Version
    build: BuildTag
    tags: frozenset[Tag]
    files: tuple[str, ...]
    metadata: Metadata
    root_is_purelib: bool
    dist_info: str
    data_dir: str | None
    binaries: Mapping[str, str]
    warnings: tuple[str, ...]


def _binary_kind(data: bytes) -> tuple[str, str | None] | None:
    """(format, arch) of a binary by its magic bytes; arch None when unknown."""
    if data[:4] == b"\x7fELF" and len(data) >= 20:
        little = data[5] == 1
        machine = int.from_bytes(data[18:20], "little" if little else "big")
        if machine == 21:  # EM_PPC64 is both endiannesses
            return "elf", "ppc64le" if little else "ppc64"
        return "elf", "/".join(sorted(_ELF_MACHINES.get(machine, {f"e_machine={machine}"})))
    if data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        cpu = int.from_bytes(data[4:8], "little")
        return "macho", _MACHO_CPUS.get(cpu, f"cputype={cpu:#x}")
    if data[:4] in (b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
        return "macho", f"big-endian cputype={int.from_bytes(data[4:8], 'big'):#x}"
    # Java class files share the fat magic; a fat header's arch count is small.
    if data[:4] == b"\xca\xfe\xba\xbe" and 0 < int.from_bytes(data[4:8], "big") < 30:
        return "macho", None
    if data[:2] == b"MZ" and len(data) >= 0x40:
        offset = int.from_bytes(data[0x3C:0x40], "little")
        if data[offset : offset + 4] == b"PE\0\0":
            machine = int.from_bytes(data[offset + 4 : offset + 6], "little")
            return "pe", _PE_MACHINES.get(machine, f"machine={machine:#x}")
    return None


def _platform_arch(platform: str) -> tuple[str, str] | None:
    """(format the platform runs, arch) for a known platform tag; None if unknown."""
    if platform in ("any", "conda_noarch"):  # conda_noarch: any binaries, conda only
        return "any", "any"
    if m := _LINUX_TAG.match(platform):
        return "elf", m.group(1)
    if m := _MAC_TAG.match(platform):
        return "macho", m.group(1)
    plain = platform.removeprefix("conda_")
    if plain in _WIN_TAG:
        return "pe", _WIN_TAG[plain]
    return None


def _check_names(names: list[str], problems: list[str]) -> None:
    for name, count in Counter(names).items():
        if count > 1:
            problems.append(f"duplicate member {name!r} ({count} times)")
    for name in names:
        parts = name.rstrip("/").split("/")
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            problems.append(f"absolute member name {name!r}")
        if ".." in parts or "\\" in name:
            problems.append(f"member name escapes or is not POSIX: {name!r}")
        elif "" in parts or "." in parts:
            problems.append(f"member name is not normalized: {name!r}")


def _check_record(
    record_name: str, record: str | None, contents: Mapping[str, bytes], problems: list[str]
) -> None:
    if record is None:
        problems.append(f"{record_name} is missing")
        return
    rows = list(csv.reader(io.StringIO(record)))
    seen: Counter[str] = Counter(row[0] for row in rows if row)
    for path, count in seen.items():
        if count > 1:
            problems.append(f"RECORD lists {path!r} {count} times")
    for row in rows:
        if not row:
            continue
        if len(row) != 3:
            problems.append(f"RECORD row does not have 3 fields: {row!r}")
            continue
        path, digest, size = row
        if path == record_name:
            if digest or size:
                problems.append("RECORD must list itself with empty hash and size")
        elif path not in contents:
            problems.append(f"RECORD lists {path!r}, which is not in the wheel")
        elif digest != record_hash(contents[path]):
            problems.append(f"RECORD hash mismatch for {path!r}: {digest!r}")
        elif size != str(len(contents[path])):
            problems.append(f"RECORD size mismatch for {path!r}: {size} != {len(contents[path])}")
    if record_name not in seen:
        problems.append("RECORD does not list itself")
    signatures = {f"{record_name}.jws", f"{record_name}.p7s"}  # may be unlisted (spec)
    for path in sorted(set(contents) - set(seen) - signatures - {record_name}):
        problems.append(f"{path!r} is not listed in RECORD")


def _check_tags(
    tags: frozenset[Tag],
    binaries: Mapping[str, tuple[str, str | None]],
    extensions: Mapping[str, str],
    root_is_purelib: bool | None,
    problems: list[str],
    *,
    python_content: bool,
) -> list[str]:
    warnings = []
    platforms = {tag.platform for tag in tags}
    for platform in sorted(platforms):
        if _platform_arch(platform) is None:
            problems.append(f"unknown platform tag {platform!r}")
    if binaries and "any" in platforms:
        problems.append(f"platform tag is 'any' but the wheel holds binaries: {sorted(binaries)}")
    if not binaries and python_content and platforms - {"any"}:
        problems.append(f"no binaries in the wheel, but platform tags are {sorted(platforms)}")
    if not python_content and "any" in platforms:
        # design: a wheel without Python content carries a conda tag, never `any`
        problems.append("platform tag is 'any' but the wheel holds no Python content")
    for platform in sorted(platforms - {"any", "conda_noarch"}):
        expected = _platform_arch(platform)
        if expected is None:
            continue
        for member, (fmt, arch) in sorted(binaries.items()):
            if fmt != expected[0]:
                problems.append(f"{member} is {fmt}, which does not run on {platform}")
            elif arch is None or expected[1] in ("universal2", "universal", "intel"):
                continue  # fat Mach-O: slices are not checked
            elif expected[1] not in arch.split("/"):
                problems.append(f"{member} is built for {arch}, tag says {platform}")
    if extensions:
        specific = set(extensions.values()) - {"abi3"}
        allowed = specific or {"abi3"}
        for tag in sorted(tags, key=str):
            if tag.abi not in allowed:
                problems.append(
                    f"ABI tag {tag.abi!r} does not match extension modules "
                    f"({', '.join(sorted(set(extensions.values())))})"
                )
            elif tag.abi != "abi3" and tag.interpreter != tag.abi.rstrip("t"):
                problems.append(f"Python tag {tag.interpreter!r} does not match ABI {tag.abi!r}")
            elif tag.abi == "abi3" and not tag.interpreter.startswith("cp3"):
                problems.append(f"abi3 wheel needs a cp3X Python tag, not {tag.interpreter!r}")
    if binaries and root_is_purelib:
        problems.append("Root-Is-Purelib is true but the wheel holds binaries")
    if root_is_purelib is not None and root_is_purelib != (platforms == {"any"}):
        warnings.append(f"Root-Is-Purelib: {str(root_is_purelib).lower()} with {sorted(platforms)}")
    return warnings


def validate_wheel(path: Path, *, ignore_binaries: Iterable[str] = ()) -> WheelReport:
    """Check a wheel against the spec and design.md; raise AssertionError listing every problem.

    ``ignore_binaries`` are fnmatch patterns of members left out of the tag checks.
    """
    path = Path(path)
    problems: list[str] = []
    try:
        name, version, build, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename as exc:
        raise AssertionError(f"{path.name}: bad wheel filename: {exc}") from None
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise AssertionError(f"{path.name}: not a zip file: {exc}") from None
    with zf:
        infos = zf.infolist()
        _check_names([i.filename for i in infos], problems)
        contents: dict[str, bytes] = {}
        for info in infos:
            if stat.S_ISLNK(info.external_attr >> 16):
                problems.append(f"{info.filename} is a symlink; wheels cannot hold links")
            if not info.is_dir() and info.filename not in contents:
                try:
                    contents[info.filename] = zf.read(info)
                except (zipfile.BadZipFile, OSError) as exc:
                    problems.append(f"{info.filename} cannot be read: {exc}")
                    contents[info.filename] = b""

    tops = {n.split("/", 1)[0] for n in contents if "/" in n}
    dist_infos = sorted(t for t in tops if t.endswith(".dist-info"))
    data_dirs = sorted(t for t in tops if t.endswith(".data"))
    # With several, check the one the filename names, so the other is the reported problem.
    named = [d for d in dist_infos if canonicalize_name(d.partition("-")[0]) == name]
    dist_info = (named or dist_infos or [f"{name}-{version}.dist-info"])[0]
    if len(dist_infos) != 1:
        problems.append(f"expected exactly one .dist-info directory, found {dist_infos}")
    stem = dist_info.removesuffix(".dist-info")
    dist_name, _, dist_version = stem.partition("-")
    try:
        version_ok = Version(dist_version) == version
    except InvalidVersion:
        version_ok = False
    if canonicalize_name(dist_name) != name or not version_ok or "-" in dist_version:
        problems.append(f"{dist_info} does not match the filename ({name} {version})")
    if len(data_dirs) > 1:
        problems.append(f"more than one .data directory: {data_dirs}")
    for ddir in data_dirs:
        if ddir != f"{stem}.data":
            problems.append(f"{ddir} does not match {dist_info}")
        for member in contents:
            if member.startswith(ddir + "/"):
                key = member.split("/")[1]
                if key not in SCHEME_KEYS or member.count("/") < 2:
                    problems.append(f"{member} is not under a known .data scheme key")
    data_dir = data_dirs[0] if data_dirs else None

    def text(member: str) -> str | None:
        raw = contents.get(f"{dist_info}/{member}")
        return None if raw is None else raw.decode("utf-8", errors="replace")

    root_is_purelib: bool | None = None
    wheel_text = text("WHEEL")
    if wheel_text is None:
        problems.append("WHEEL is missing")
    else:
        wheel = email.parser.Parser().parsestr(wheel_text)
        if wheel["Wheel-Version"] != "1.0":
            problems.append(f"Wheel-Version is {wheel['Wheel-Version']!r}, not '1.0'")
        if wheel["Root-Is-Purelib"] not in ("true", "false"):
            problems.append(f"Root-Is-Purelib is {wheel['Root-Is-Purelib']!r}")
        root_is_purelib = wheel["Root-Is-Purelib"] == "true"
        tag_lines = wheel.get_all("Tag") or []
        for line in tag_lines:
            if "." in line:
                problems.append(f"WHEEL Tag {line!r} is compressed; list each tag expanded")
        wheel_tags = frozenset(t for line in tag_lines for t in parse_tag(line))
        if wheel_tags != tags:
            problems.append(
                f"WHEEL Tag lines {sorted(map(str, wheel_tags))} "
                f"!= filename tags {sorted(map(str, tags))}"
            )
        wheel_build = wheel["Build"]
        expected_build = "".join(map(str, build)) if build else None
        if wheel_build != expected_build:
            problems.append(f"WHEEL Build is {wheel_build!r}, filename says {expected_build!r}")

    metadata: Metadata | None = None
    metadata_text = text("METADATA")
    if metadata_text is None:
        problems.append("METADATA is missing")
    else:
        try:
            metadata = Metadata.from_email(metadata_text, validate=True)
        except ExceptionGroup as group:
            problems.extend(f"METADATA: {exc}" for exc in group.exceptions)
        except Exception as exc:
            problems.append(f"METADATA: {exc}")
    if metadata is not None:
        if canonicalize_name(metadata.name) != name:
            problems.append(f"METADATA Name {metadata.name!r} does not match {name!r}")
        if metadata.version != version:
            problems.append(f"METADATA Version {metadata.version} does not match {version}")
        for license_file in metadata.license_files or []:
            if f"{dist_info}/licenses/{license_file}" not in contents:
                problems.append(f"License-File {license_file!r} is not in {dist_info}/licenses/")

    _check_record(f"{dist_info}/RECORD", text("RECORD"), contents, problems)

    ignored = list(ignore_binaries)
    binaries: dict[str, tuple[str, str | None]] = {}
    extensions: dict[str, str] = {}
    for member, data in contents.items():
        kind = _binary_kind(data)
        if kind is None or (_LAUNCHER.search(member) and kind[0] == "pe"):
            continue
        if any(fnmatch.fnmatch(member, pattern) for pattern in ignored):
            continue
        binaries[member] = kind
        in_root = data_dir is None or not member.startswith(data_dir + "/")
        in_lib = data_dir is not None and member.split("/")[1:2] in (["purelib"], ["platlib"])
        if in_root or in_lib:
            for pattern, abi in _EXTENSION_ABI:
                if m := pattern.search(member):
                    extensions[member] = abi.format(*m.groups())
    python_content = any(
        not member.startswith((f"{dist_info}/", f"{stem}.data/"))
        or member.split("/")[1:2] in (["purelib"], ["platlib"])
        for member in contents
    )
    warnings = _check_tags(
        tags, binaries, extensions, root_is_purelib, problems, python_content=python_content
    )

    if problems or metadata is None:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"{path.name}: {len(problems)} problem(s):\n{listing}")
    return WheelReport(
        name=name,
        version=version,
        build=build,
        tags=tags,
        files=tuple(sorted(contents)),
        metadata=metadata,
        root_is_purelib=bool(root_is_purelib),
        dist_info=dist_info,
        data_dir=data_dir,
        binaries={member: kind[0] for member, kind in sorted(binaries.items())},
        warnings=tuple(warnings),
    )


def install_wheel(path: Path, root: Path) -> dict[str, Path]:
    """Install a wheel with ``installer`` into ``root/<scheme key>``; return that scheme."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    scheme = {key: root / key for key in SCHEME_KEYS}
    destination = SchemeDictionaryDestination(
        {key: str(value) for key, value in scheme.items()},
        interpreter=sys.executable,
        script_kind="posix",
    )
    with WheelFile.open(path) as source:
        install(source, destination, additional_metadata={})
    return scheme


def install_into_prefix(path: Path, prefix: Path) -> Path:
    """Install a wheel as into a conda prefix (data at the prefix, scripts in bin/);
    return its site-packages."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    site = (
        prefix
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
    )
    scheme = {
        "purelib": site,
        "platlib": site,
        "headers": prefix / "include",
        "scripts": prefix / "bin",
        "data": prefix,
    }
    destination = SchemeDictionaryDestination(
        {k: str(v) for k, v in scheme.items()}, interpreter=sys.executable, script_kind="posix"
    )
    with WheelFile.open(path) as source:
        install(source, destination, additional_metadata={})
    return site


def run_in_site(site: Path, code: str) -> str:
    """Run ``code`` with this Python and only ``site`` on its path (no LD_LIBRARY_PATH,
    so shared libraries are found the way the installed files say); return stdout."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()
