"""Is a wheel fit to publish? RECORD, `.dist-info`, WHEEL, METADATA, and twine's check.

`check_wheel()` reads a built wheel and collects every problem into one error: the
RECORD hashes and sizes (installer's validator, plus entries naming missing files),
exactly one `.dist-info` named for the distribution, a WHEEL file whose tags and build
match the file name, a METADATA that packaging parses and validates and whose name
and version match the file name, and binaries that fit the platform tags (read with
condawheel's ELF, Mach-O and PE readers): the checks the tests' own validator makes.
Then the check `twine check` makes: that the long description renders as an index would
render it.

The description is rendered here with readme_renderer, as `twine check` does, rather
than through twine's command: its verdict comes as console output, and it cannot read a
wheel whose METADATA field names are in lower case (allowed, and written by packaging
26), while the METADATA packaging parsed can always be rendered.
"""

from __future__ import annotations

import email.message
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import readme_renderer.rst
from installer.exceptions import InstallerError
from installer.sources import WheelFile
from installer.utils import parse_metadata_file
from packaging.errors import ExceptionGroup
from packaging.metadata import Metadata, RawMetadata, parse_email
from packaging.tags import Tag, parse_tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from condawheel.binaries import BinaryReadError, read_binary, sniff
from condawheel.binaries.model import BinaryFormat
from condawheel.exceptions import BadInputError
from condawheel.streams import file_sha256
from condawheel.wheel.reader import WheelInput
from condawheel.wheel.record import listed_paths

logger = logging.getLogger(__name__)

__all__ = ["CheckedWheel", "check_wheel"]

_SNIFF_BYTES = 64
#: Launcher templates that pure-Python tools ship as data (setuptools' cli-64.exe,
#: distlib's t64.exe): never loaded, so they say nothing about the wheel's platform.
_LAUNCHER = re.compile(r"(?:^|/)(?:(?:cli|gui)(?:-(?:32|64|arm64))?|[tw](?:32|64)(?:-arm)?)\.exe$")
_LINUX_PREFIX = re.compile(r"^(?:many|musl)?linux(?:1|2010|2014|_\d+_\d+)?_")

#: Content types whose rendering cannot fail (twine check's table); others are RST.
_NEVER_FAILS = frozenset({"text/plain", "text/markdown"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedWheel:
    """A wheel that passed every check, with what publishing it needs."""

    path: Path
    name: NormalizedName
    version: Version
    tags: frozenset[Tag]
    #: The python tag of the file name, which the upload form calls ``pyversion``.
    python_tag: str
    #: METADATA as packaging parsed it, for the upload form.
    metadata: RawMetadata
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.path.name


def check_wheel(path: Path) -> CheckedWheel:
    """Check the wheel at ``path``; raise BadInputError listing every problem found."""
    problems: list[str] = []
    with WheelInput(path) as wheel:  # file name, readable zip, one .dist-info, no escapes
        dist_info = wheel.dist_info
        filename = wheel.name
        metadata_bytes = _member(wheel, f"{dist_info}/METADATA", problems)
        wheel_bytes = _member(wheel, f"{dist_info}/WHEEL", problems)
    named = dist_info.removesuffix(".dist-info").rsplit("-", 1)[0]
    if canonicalize_name(named) != filename.name:
        # installer cannot read such a wheel's RECORD: this one problem says it all
        problems.append(f"its {dist_info} is not named for {filename.name}")
    else:
        problems.extend(_record_problems(path, dist_info))
    if wheel_bytes is not None:
        problems.extend(_wheel_file_problems(wheel_bytes, filename.tags, filename.build))
    raw: RawMetadata = {}
    if metadata_bytes is not None:
        raw, found = _read_metadata(metadata_bytes)
        problems.extend(found)
    if raw.get("name") and canonicalize_name(raw["name"]) != filename.name:
        problems.append(f"METADATA names {raw['name']}, the file name {filename.name}")
    version = Version(filename.version)
    if raw.get("version"):
        try:
            if Version(raw["version"]) != version:
                problems.append(f"METADATA says version {raw['version']}, the file name {version}")
        except InvalidVersion:
            pass  # already reported by the metadata validation
    if not problems:
        problems.extend(_binary_problems(path, filename.tags))
    if not problems:
        problems.extend(_description_problems(raw))
    if problems:
        raise BadInputError(
            f"{path.name}: not a valid wheel: {'; '.join(problems)}; build it again"
        )
    sha256, size = file_sha256(path)
    return CheckedWheel(
        path=path,
        name=NormalizedName(filename.name),
        version=version,
        tags=filename.tags,
        python_tag=path.name.removesuffix(".whl").split("-")[-3],
        metadata=raw,
        sha256=sha256,
        size=size,
    )


def _member(wheel: WheelInput, member: str, problems: list[str]) -> bytes | None:
    if member not in wheel.names:
        problems.append(f"{member} is missing")
        return None
    return wheel.read(member)


def _record_problems(path: Path, dist_info: str) -> list[str]:
    """installer's RECORD validation (every file listed, hashes and sizes), and what it
    does not look for: RECORD rows naming files the wheel lacks."""
    try:
        with WheelFile.open(path) as source:
            try:
                source.validate_record(validate_contents=True)
                issues: list[str] = []
            except WheelFile.validation_error as exc:
                issues = list(getattr(exc, "issues", [str(exc)]))
            with zipfile.ZipFile(path) as archive:
                names = {n for n in archive.namelist() if not n.endswith("/")}
                record = archive.read(f"{dist_info}/RECORD").decode("utf-8")
    except KeyError:
        return [f"{dist_info}/RECORD is missing"]
    except (InstallerError, ValueError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        return [f"cannot read its RECORD ({exc})"]
    # installer names the wheel by its full path; the caller's message names it already
    found = [issue.removeprefix(f"In {path}, ").replace(str(path), path.name) for issue in issues]
    try:
        listed = listed_paths(record)
    except (ValueError, IndexError) as exc:
        return [*found, f"RECORD is not valid CSV ({exc})"]
    found.extend(
        f"RECORD lists {name}, which is not in the wheel" for name in listed if name not in names
    )
    return found


def _wheel_file_problems(data: bytes, tags: frozenset[Tag], build: str | None) -> list[str]:
    try:
        wheel = parse_metadata_file(data.decode("utf-8"))
    except UnicodeDecodeError:
        return ["WHEEL is not UTF-8"]
    problems = []
    version = wheel.get("Wheel-Version", "")
    if version.split(".")[0] != "1":
        problems.append(f"WHEEL has Wheel-Version {version!r}, not 1.x")
    if str(wheel.get("Root-Is-Purelib", "")).strip().lower() not in ("true", "false"):
        problems.append("WHEEL has no Root-Is-Purelib: true or false")
    declared: set[Tag] = set()
    for line in wheel.get_all("Tag") or []:
        try:
            declared.update(parse_tag(str(line).strip()))
        except ValueError:
            problems.append(f"WHEEL has an invalid Tag {line!r}")
    if declared != tags:
        problems.append(f"WHEEL declares tags {_tags(declared)}, the file name {_tags(tags)}")
    declared_build = wheel.get("Build")
    if (str(declared_build).strip() if declared_build else None) != build:
        problems.append(f"WHEEL says Build {declared_build}, the file name {build}")
    return problems


_NOARCH = "conda_noarch"


def _binary_problems(path: Path, tags: frozenset[Tag]) -> list[str]:
    """The platform tags against the binaries inside, read with condawheel's own readers:
    a pure ``any`` wheel holds none, and each binary is of the format and architecture
    every platform tag names."""
    # conda_noarch (tags.NOARCH_PLATFORM; tags imports rattler) may hold binaries of
    # any platform, as a noarch: generic package's launchers.
    expected = {t.platform: _platform_binaries(t.platform) for t in tags if t.platform != _NOARCH}
    problems: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or _LAUNCHER.search(info.filename):
                continue
            with archive.open(info) as stream:
                fmt = sniff(stream.read(_SNIFF_BYTES))
                if fmt is None:
                    continue
                stream.seek(0)
                try:
                    binary = read_binary(cast(BinaryIO, stream), fmt)
                except BinaryReadError as exc:
                    problems.append(f"{info.filename} is not a readable binary ({exc})")
                    continue
            archs = set(binary.archs or (binary.arch,))
            for platform, want in sorted(expected.items()):
                if want is None:
                    problems.append(f"{info.filename} is a binary, but the wheel is tagged any")
                elif binary.format is not want[0]:
                    problems.append(f"{info.filename} is {fmt.value}, which {platform} cannot run")
                elif want[1] and not archs & want[1]:
                    built = "/".join(sorted(archs))
                    problems.append(f"{info.filename} is built for {built}, not {platform}")
    return problems


def _platform_binaries(platform: str) -> tuple[BinaryFormat, frozenset[str]] | None:
    """The binary format and architectures a platform tag runs (no architectures: any
    of that format, as for a universal2 Mac wheel); None for ``any``."""
    if platform == "any":
        return None
    plain = platform.removeprefix("conda_")
    windows = {"win_amd64": "amd64", "win32": "win32", "win_arm64": "arm64"}
    if plain in windows:
        return BinaryFormat.PE, frozenset({windows[plain]})
    arch = plain.rsplit("_", 1)[-1] if "_" in plain else ""
    if plain.startswith("macosx_"):
        known = arch in ("x86_64", "arm64")
        return BinaryFormat.MACHO, frozenset({arch} if known else ())
    return BinaryFormat.ELF, frozenset({plain.removeprefix(_prefix_of(plain))})


def _prefix_of(plain: str) -> str:
    """``manylinux_2_17_`` of ``manylinux_2_17_x86_64``: the arch may hold an underscore."""
    found = _LINUX_PREFIX.match(plain)
    return found.group(0) if found else ""


def _tags(tags: set[Tag] | frozenset[Tag]) -> str:
    return ", ".join(sorted(str(tag) for tag in tags)) or "none"


def _read_metadata(data: bytes) -> tuple[RawMetadata, list[str]]:
    """METADATA parsed and validated by packaging, as twine validates it before uploading."""
    raw, unparsed = parse_email(data)
    problems = [f"METADATA has an unknown or malformed field {key!r}" for key in sorted(unparsed)]
    try:
        older = Version(raw.get("metadata_version", "0")) < Version("2.4")
    except InvalidVersion:
        older = False
    if older:
        # setuptools writes License-File under older Metadata-Versions; twine drops it.
        raw.pop("license_files", None)
    try:
        Metadata.from_raw(raw, validate=True)
    except ExceptionGroup as group:
        problems.extend(f"METADATA: {exc}" for exc in group.exceptions)
    return raw, problems


def _description_problems(raw: RawMetadata) -> list[str]:
    """twine check: a description an index cannot render is an error, and what only
    warrants a warning there (no description, no content type) is logged."""
    description = raw.get("description")
    content_type = raw.get("description_content_type")
    if content_type is None:
        logger.info("Description-Content-Type is missing: indexes render reStructuredText")
    message = email.message.EmailMessage()
    message["content-type"] = content_type or "text/x-rst"
    if not description or description.rstrip() == "UNKNOWN":
        logger.info("the wheel has no long description")
        return []
    if message.get_content_type() in _NEVER_FAILS:
        return []
    stream = io.StringIO()
    params = {k: str(v) for k, v in message["content-type"].params.items()}
    if readme_renderer.rst.render(description, stream=stream, **params) is None:
        first = next((line for line in stream.getvalue().splitlines() if line.strip()), "")
        return [f"its description is not valid reStructuredText and would not render ({first})"]
    return []
