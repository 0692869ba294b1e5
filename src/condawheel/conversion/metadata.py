"""The wheel's `.dist-info` text files: METADATA, WHEEL and entry_points.txt."""

from __future__ import annotations

import configparser
import io
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.metadata import InvalidMetadata, Metadata, RawMetadata, parse_email
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from condawheel.conda.package import CondaPackage
from condawheel.conversion.dependencies import Dependencies
from condawheel.exceptions import BadInputError
from condawheel.quoting import quote
from condawheel.version import __version__

#: Fields of a kept METADATA that conda's own dependency data replaces.
_REPLACED = frozenset({"version", "requires-python", "requires-external"})
_EXTRA_MARKER = re.compile(r"extra\s*==", re.IGNORECASE)
#: Raw field name -> header name (packaging keeps this table private).
_EMAIL_NAMES: dict[str, str] = {
    "classifiers": "classifier",
    "license_files": "license-file",
    "platforms": "platform",
    "project_urls": "project-url",
    "supported_platforms": "supported-platform",
    "import_names": "import-name",
    "import_namespaces": "import-namespace",
}


def _email_name(raw_name: str) -> str:
    return _EMAIL_NAMES.get(raw_name, raw_name.replace("_", "-"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DistributionId:
    """The wheel's distribution name and version, and the names derived from them."""

    name: str
    version: str

    @property
    def stem(self) -> str:
        # Binary distribution format: name normalised, `-` escaped.
        return re.sub(r"[-_.]+", "_", self.name).lower() + "-" + self.version

    @property
    def dist_info(self) -> str:
        return f"{self.stem}.dist-info"

    @property
    def data(self) -> str:
        return f"{self.stem}.data"


def license_expression(text: str | None) -> str | None:
    """The canonical SPDX expression for ``text``, or None if it is not one."""
    if not text:
        return None
    try:
        return str(canonicalize_license_expression(text))
    except InvalidLicenseExpression:
        return None


def generate_metadata(
    package: CondaPackage,
    dist: DistributionId,
    dependencies: Dependencies,
    license_files: Sequence[str],
) -> bytes:
    """METADATA (2.4) for a package without Python metadata of its own."""
    about: Mapping[str, Any] = package.about
    raw: RawMetadata = {"metadata_version": "2.4", "name": dist.name, "version": dist.version}
    if about.get("summary"):
        raw["summary"] = " ".join(str(about["summary"]).split())
    if about.get("description"):
        raw["description"] = str(about["description"])
        raw["description_content_type"] = "text/markdown"
    urls = {
        label: str(about[key])
        for label, key in (
            ("Homepage", "home"),
            ("Source", "dev_url"),
            ("Documentation", "doc_url"),
        )
        if about.get(key)
    }
    if urls:
        raw["project_urls"] = urls
    licence_text = package.license or about.get("license")
    expression = license_expression(str(licence_text) if licence_text else None)
    if expression:
        raw["license_expression"] = expression
    elif licence_text:
        raw["license"] = str(licence_text)
    if license_files:
        raw["license_files"] = list(license_files)
    _add_dependencies(raw, dependencies)
    return _canonical_names(bytes(Metadata.from_raw(raw).as_rfc822().as_bytes()))


#: Core metadata field names as the specification spells them. Names are
#: case-insensitive, but packaging 26 writes them in lower case and some tools (twine 7
#: among them) look for ``Metadata-Version`` byte for byte.
_CANONICAL_NAMES = {
    name.lower(): name
    for name in (
        "Metadata-Version", "Name", "Version", "Dynamic", "Platform", "Supported-Platform",
        "Summary", "Description", "Description-Content-Type", "Keywords", "Home-page",
        "Download-URL", "Author", "Author-email", "Maintainer", "Maintainer-email",
        "License", "License-Expression", "License-File", "Classifier", "Requires-Dist",
        "Requires-Python", "Requires-External", "Project-URL", "Provides-Extra",
        "Provides-Dist", "Obsoletes-Dist", "Import-Name", "Import-Namespace",
    )
}  # fmt: skip


def _canonical_names(data: bytes) -> bytes:
    head, sep, body = data.decode("utf-8").partition("\n\n")
    lines = []
    for line in head.split("\n"):
        name, colon, value = line.partition(":")
        if colon and line[:1] not in (" ", "\t"):
            line = _CANONICAL_NAMES.get(name.lower(), name) + colon + value
        lines.append(line)
    return ("\n".join(lines) + sep + body).encode("utf-8")


def _add_dependencies(raw: RawMetadata, dependencies: Dependencies) -> None:
    if dependencies.requires_python:
        raw["requires_python"] = dependencies.requires_python
    if dependencies.requires_dist:
        raw["requires_dist"] = dependencies.requires_dist
    if dependencies.requires_external:
        raw["requires_external"] = dependencies.requires_external


def edit_metadata(original: bytes, dist: DistributionId, dependencies: Dependencies) -> bytes:
    """The package's own METADATA with conda's dependency facts in place of pip's.

    Every other header and the body are kept byte for byte. Requires-Dist lines for
    extras stay (conda has no extras); unconditional ones give way to conda's.
    """
    text = original.decode("utf-8").replace("\r\n", "\n")
    head, sep, body = text.partition("\n\n")
    kept: list[str] = []
    for field in _fields(head):
        key = field.split(":", 1)[0].strip().lower()
        if key == "metadata-version" and field.split(":", 1)[1].strip() in ("1.0", "1.1"):
            # Requires-Python/-Dist/-External need 1.2 or later.
            field = "Metadata-Version: 2.1"
        if key in _REPLACED:
            continue
        if key == "requires-dist" and not _EXTRA_MARKER.search(field):
            continue
        kept.append(field)
    ours = [f"Version: {dist.version}"]
    if dependencies.requires_python:
        ours.append(f"Requires-Python: {dependencies.requires_python}")
    ours += [f"Requires-Dist: {r}" for r in dependencies.requires_dist]
    ours += [f"Requires-External: {r}" for r in dependencies.requires_external]
    # Version belongs right after Name; the rest follow the kept headers.
    name_index = next(
        (i + 1 for i, f in enumerate(kept) if f.lower().startswith("name:")), len(kept)
    )
    lines = [*kept[:name_index], ours[0], *kept[name_index:], *ours[1:]]
    return ("\n".join(lines) + "\n" + (("\n" + body) if sep else "")).encode("utf-8")


def repair_metadata(data: bytes, present_licences: set[str]) -> tuple[bytes, list[str]]:
    """Kept METADATA made valid: fields packaging rejects are dropped (and reported),
    an unknown Metadata-Version becomes 2.1, and License-File lines name only licence
    files the wheel carries."""
    text = data.decode("utf-8")
    head, sep, body = text.partition("\n\n")
    fields = _fields(head)
    warnings: list[str] = []
    version = next(
        (f.partition(":")[2].strip() for f in fields if _key(f) == "metadata-version"), ""
    )
    licences = [f for f in fields if _key(f) == "license-file"]
    if licences and _older_than(version, "2.4"):
        # License-File is a 2.4 field: older metadata naming licence files moves up.
        fields = [("Metadata-Version: 2.4" if _key(f) == "metadata-version" else f) for f in fields]
        head = "\n".join(fields)
        data = (head + "\n" + (("\n" + body) if sep else "")).encode("utf-8")
    raw, _ = parse_email(data)
    try:
        Metadata.from_raw(raw, validate=True)
        bad: set[str] = set()
    except ExceptionGroup as group:
        bad = {
            _email_name(getattr(exc, "field", ""))
            for exc in group.exceptions
            if isinstance(exc, InvalidMetadata)
        }
    repaired: list[str] = []
    for field in fields:
        key, _, value = field.partition(":")
        key = key.strip().lower()
        if key == "metadata-version" and key in bad:
            repaired.append("Metadata-Version: 2.1")
            warnings.append(
                f"METADATA: Metadata-Version {value.strip()!r} is not valid; set to 2.1"
            )
        elif key == "license-file" and value.strip() not in present_licences:
            warnings.append(
                f"METADATA: License-File {value.strip()!r} is not in the wheel; dropped"
            )
        elif key in bad:
            warnings.append(f"METADATA: invalid {key} {value.strip()!r} dropped")
        else:
            repaired.append(field)
    result = "\n".join(repaired) + "\n" + (("\n" + body) if sep else "")
    return result.encode("utf-8"), warnings


def _key(field: str) -> str:
    return field.partition(":")[0].strip().lower()


def _older_than(version: str, than: str) -> bool:
    try:
        return Version(version) < Version(than)
    except InvalidVersion:
        return True


def header_values(data: bytes, name: str) -> list[str]:
    """Values of every header ``name`` (case-insensitive) in METADATA."""
    head = data.decode("utf-8").replace("\r\n", "\n").partition("\n\n")[0]
    values = []
    for field in _fields(head):
        key, _, value = field.partition(":")
        if key.strip().lower() == name.lower():
            values.append(value.strip())
    return values


def _fields(head: str) -> list[str]:
    """Header fields, with continuation lines joined to their field."""
    fields: list[str] = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] += "\n" + line
        elif line:
            fields.append(line)
    return fields


def wheel_file(tags: Sequence[str], *, purelib: bool, build: str | None) -> bytes:
    lines = [
        "Wheel-Version: 1.0",
        f"Generator: condawheel {__version__}",
        f"Root-Is-Purelib: {'true' if purelib else 'false'}",
        *(f"Tag: {tag}" for tag in tags),
    ]
    if build:
        lines.append(f"Build: {build}")
    return ("\n".join(lines) + "\n").encode()


#: The package's own metadata files that condawheel reads as text.
_TEXT_METADATA = frozenset({"METADATA", "PKG-INFO", "entry_points.txt"})


def check_own_metadata(label: str, name: str, data: bytes, *, dist_name: str = "") -> None:
    """BadInputError unless the package's own metadata file ``name`` reads: UTF-8,
    for entry_points.txt an INI file as installers parse it, for METADATA (PKG-INFO)
    headers with one Name and one Version, the Name that of its folder (``dist_name``)."""
    if name not in _TEXT_METADATA:
        return
    try:
        text = data.decode("utf-8")
        if name == "entry_points.txt":
            _entry_points_parser().read_string(text)
        elif missing := [k for k in ("Name", "Version") if len(header_values(data, k)) != 1]:
            raise ValueError(f"not exactly one {' and one '.join(missing)} header")
        elif dist_name and canonicalize_name(header_values(data, "Name")[0]) != (
            canonicalize_name(dist_name)
        ):
            raise ValueError(f"it names {header_values(data, 'Name')[0]}, its folder {dist_name}")
    except (ValueError, configparser.Error) as exc:  # also UnicodeDecodeError
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInputError(
            f"{label}: the package's {name} cannot be read ({quote(detail, 100)[1:-1]}): "
            "the package is damaged; rebuild it"
        ) from None


def _entry_points_parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    return parser


def merge_entry_points(original: bytes | None, console_scripts: Sequence[str]) -> bytes | None:
    """entry_points.txt with conda's `link.json` console scripts added to the kept one."""
    if not console_scripts:
        return original
    parser = _entry_points_parser()
    if original:
        parser.read_string(original.decode("utf-8"))
    if not parser.has_section("console_scripts"):
        parser.add_section("console_scripts")
    added = False
    for entry in console_scripts:
        name, _, target = entry.partition("=")
        if not parser.has_option("console_scripts", name.strip()):
            parser.set("console_scripts", name.strip(), target.strip())
            added = True
    if not added:
        return original
    out = io.StringIO()
    parser.write(out, space_around_delimiters=True)
    return out.getvalue().strip().encode() + b"\n"


def script_names(entry_points: bytes | None, console_scripts: Sequence[str]) -> set[str]:
    """Names of the scripts the installer will generate from entry points."""
    names = {entry.partition("=")[0].strip() for entry in console_scripts}
    if entry_points:
        parser = _entry_points_parser()
        try:
            parser.read_string(entry_points.decode("utf-8"))
        except configparser.Error:
            return names
        for section in ("console_scripts", "gui_scripts"):
            if parser.has_section(section):
                names.update(parser.options(section))
    return names


def add_requires_external(
    original: bytes, requirements: Sequence[str], *, drop: Collection[str] = ()
) -> bytes:
    """METADATA with ``requirements`` added as Requires-External (none twice), and the
    Requires-External of the packages named in ``drop`` (bundled) left out."""
    present = set(header_values(original, "Requires-External"))
    added = [f"Requires-External: {r}" for r in requirements if r not in present]
    return _edit_fields(
        original, lambda fields: [*(f for f in fields if _external_name(f) not in drop), *added]
    )


def add_license_files(original: bytes, names: Sequence[str]) -> bytes:
    """METADATA naming the licence files ``names`` (paths under ``licenses/``) too, when
    its Metadata-Version (2.4 and later) has License-File; else as it is."""
    version = (header_values(original, "Metadata-Version") or ["1.0"])[0]
    try:
        new_enough = Version(version) >= Version("2.4")
    except InvalidVersion:
        new_enough = False
    present = set(header_values(original, "License-File"))
    added = [f"License-File: {name}" for name in names if name not in present]
    if not new_enough or not added:
        return original
    return _edit_fields(original, lambda fields: [*fields, *added])


def _edit_fields(original: bytes, edit: Callable[[list[str]], list[str]]) -> bytes:
    """METADATA with its header fields edited, the body as it was."""
    text = original.decode("utf-8").replace("\r\n", "\n")
    head, sep, body = text.partition("\n\n")
    lines = edit(_fields(head))
    return ("\n".join(lines) + "\n" + (("\n" + body) if sep else "")).encode("utf-8")


def _external_name(field: str) -> str | None:
    """The name a Requires-External field requires (``libz`` of ``libz (>=1.3)``)."""
    name, sep, value = field.partition(":")
    if not sep or name.strip().lower() != "requires-external":
        return None
    return re.split(r"[\s(;<>=!~\[]", value.strip(), maxsplit=1)[0]


def retag_wheel_file(original: bytes, tags: Sequence[str]) -> bytes:
    """WHEEL with its Tag lines replaced; a wheel with binaries is not purelib."""
    lines = [
        line
        for line in original.decode("utf-8").splitlines()
        if line and not line.lower().startswith(("tag:", "root-is-purelib:"))
    ]
    lines.insert(min(len(lines), 2), "Root-Is-Purelib: false")
    lines += [f"Tag: {tag}" for tag in tags]
    return ("\n".join(lines) + "\n").encode()
