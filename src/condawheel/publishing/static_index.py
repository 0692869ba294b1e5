"""A static simple repository for a folder of wheels, as `condawheel index` writes it.

For the wheels in ``DIR`` it writes:

- ``DIR/simple/index.html`` and ``DIR/simple/<project>/index.html``: the PEP 503 pages,
  each file link carrying ``#sha256=``, ``data-requires-python`` (PEP 503), and
  ``data-core-metadata`` with its older spelling ``data-dist-info-metadata`` (PEP 658,
  PEP 714);
- ``index.json`` beside each ``index.html``: the same page in PEP 691's JSON form
  (``application/vnd.pypi.simple.v1+json``, API version 1.1 with PEP 700's ``versions``
  and ``size``);
- ``DIR/<wheel>.metadata``: the wheel's METADATA, which PEP 658 serves at the wheel's
  URL plus ``.metadata``, so that installers resolve without downloading every wheel.

A static host answers a folder's URL with its ``index.html``, which every installer
reads. PEP 691 negotiates the format through the ``Accept`` header, which a static host
cannot do by itself; the ``index.json`` pages are there for a host configured to (Apache's
MultiViews, nginx's ``map`` on ``$http_accept``; see `condawheel index --help`).

Output is deterministic (projects and files sorted, no timestamps), each file is written
to a temporary file and renamed, files whose bytes would not change are left alone, and
pages and metadata files of wheels no longer in ``DIR`` are removed.
"""

from __future__ import annotations

import contextlib
import email.parser
import hashlib
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from condawheel.atomic import atomic_output
from condawheel.exceptions import BadInputError, ConfigurationError, NothingToDoError
from condawheel.streams import file_sha256
from condawheel.wheel.reader import WheelInput, WheelName

#: The folder under DIR that holds the index.
SIMPLE_DIR = "simple"
#: PEP 691's content type for the JSON pages.
JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
#: PEP 629 / PEP 700: the version of the simple API these pages follow.
API_VERSION = "1.1"
#: PEP 658: a wheel's METADATA is served at the wheel's URL plus this.
METADATA_SUFFIX = ".metadata"
PAGES = ("index.html", "index.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedWheel:
    """One wheel, as the index lists it."""

    path: Path
    #: The normalized project name (PEP 503), which names its page.
    project: str
    #: The Name field of its METADATA, as written.
    name: str
    version: Version
    sha256: str
    size: int
    #: The sha256 of its `.dist-info/METADATA`, which is served as `<wheel>.metadata`
    #: (the bytes are read again when that file is written, rather than held).
    metadata_sha256: str
    requires_python: str | None

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexResult:
    """What `build_index` wrote."""

    #: ``DIR/simple``: the URL to give installers is the one this folder is served at.
    root: Path
    #: The wheels of each project (normalized name), sorted by file name.
    projects: Mapping[str, tuple[IndexedWheel, ...]]
    #: Files created or changed; files already up to date are not listed.
    written: tuple[Path, ...]
    #: Pages and metadata files of wheels no longer in the folder.
    removed: tuple[Path, ...]

    @property
    def wheels(self) -> list[IndexedWheel]:
        return [w for project in self.projects.values() for w in project]


def check_base_url(url: str) -> str:
    """``url`` as the prefix of wheel links (ending in ``/``); raises on anything else."""
    parts = urlsplit(url)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    if not (absolute or parts.scheme == "file" or (not parts.scheme and url.startswith("/"))):
        raise ConfigurationError(
            f"--base-url {url!r} is not an http(s):// or file:// URL or an absolute path; "
            "give the URL the wheels are served from, such as https://wheels.example.org/"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"--base-url {url!r} has a query or fragment; give the folder's plain URL"
        )
    return url if url.endswith("/") else f"{url}/"


def wheel_url(filename: str, base_url: str | None) -> str:
    """The link to a wheel: under ``base_url``, else relative to a project page in
    ``DIR/simple/<project>/``, which is two folders below the wheel."""
    return f"{base_url or '../../'}{quote(filename)}"


def read_wheel(path: Path) -> IndexedWheel:
    """Read what the index needs from a wheel; raises BadInputError if it is not valid."""
    metadata, filename = _read_metadata(path)
    fields = email.parser.BytesParser().parsebytes(metadata, headersonly=True)
    name, version = fields.get("Name"), fields.get("Version")
    if not name or not version:
        raise BadInputError(f"{path.name}: its METADATA has no Name or Version; build it again")
    project = canonicalize_name(filename.name)
    try:
        same_version = Version(str(version)) == Version(filename.version)
    except InvalidVersion:
        same_version = False
    if canonicalize_name(str(name)) != project or not same_version:
        raise BadInputError(
            f"{path.name}: the file name says {filename.name} {filename.version}, its METADATA "
            f"says {name} {version}; rename the wheel or build it again"
        )
    requires = fields.get("Requires-Python")
    try:
        sha256, size = file_sha256(path)
    except OSError as exc:
        raise BadInputError(f"{path.name}: cannot read it ({exc.strerror})") from None
    return IndexedWheel(
        path=path,
        project=project,
        name=str(name).strip(),
        version=Version(filename.version),
        sha256=sha256,
        size=size,
        metadata_sha256=hashlib.sha256(metadata).hexdigest(),
        requires_python=" ".join(str(requires).split()) if requires else None,
    )


def _read_metadata(path: Path) -> tuple[bytes, WheelName]:
    with WheelInput(path) as wheel:
        member = f"{wheel.dist_info}/METADATA"
        if member not in wheel.names:
            raise BadInputError(f"{path.name}: the wheel has no {member}; build it again")
        return wheel.read(member), wheel.name


def find_wheels(directory: Path) -> list[Path]:
    """The wheels directly in ``directory``, by name; raises when there are none."""
    if not directory.is_dir():
        raise BadInputError(f"{directory}: no such folder; give the folder that holds the wheels")
    wheels = sorted(
        p
        for p in directory.iterdir()
        if p.name.endswith(".whl") and not p.name.startswith(".") and p.is_file()
    )
    if not wheels:
        raise NothingToDoError(f"{directory}: no wheels (*.whl) to index")
    return wheels


def build_index(
    directory: Path,
    *,
    base_url: str | None = None,
    known: Callable[[Path], IndexedWheel | None] | None = None,
) -> IndexResult:
    """Write (or bring up to date) the simple index of the wheels in ``directory``.

    Every wheel is read and checked before anything is written, so an invalid wheel
    leaves the folder as it was. ``known`` may give what a wheel's reading would (a
    mirror remembers it), so that only new wheels are read. Memory holds a few hundred
    bytes per wheel: each METADATA is read again when its file is written, and only
    when that file does not hold it already.
    """
    base = check_base_url(base_url) if base_url is not None else None
    wheels = [
        (known(path) if known else None) or read_wheel(path) for path in find_wheels(directory)
    ]
    grouped: dict[str, list[IndexedWheel]] = {}
    for wheel in sorted(wheels, key=lambda w: (w.project, w.filename)):
        grouped.setdefault(wheel.project, []).append(wheel)
    projects = {project: tuple(listed) for project, listed in grouped.items()}
    root = directory / SIMPLE_DIR
    keep: set[Path] = set()
    written = [path for wheel in wheels if (path := _write_metadata(directory, wheel, keep))]
    # Each page is written as it is made, so that only one is held at a time.
    for project, listed in projects.items():
        written += _write_page(root / project / "index.html", project_html(listed, base), keep)
        written += _write_page(root / project / "index.json", project_json(listed, base), keep)
    written += _write_page(root / "index.html", root_html(projects), keep)
    written += _write_page(root / "index.json", root_json(projects), keep)
    removed = _remove_stale(directory, root, keep)
    return IndexResult(root=root, projects=projects, written=tuple(written), removed=removed)


def _write_page(path: Path, page: str, keep: set[Path]) -> list[Path]:
    keep.add(path)
    return [path] if write_if_changed(path, page.encode()) else []


def _write_metadata(directory: Path, wheel: IndexedWheel, keep: set[Path]) -> Path | None:
    """``<wheel>.metadata``, written unless it holds the wheel's METADATA already;
    the path when it was written."""
    path = directory / f"{wheel.filename}{METADATA_SUFFIX}"
    keep.add(path)
    with contextlib.suppress(OSError):
        if hashlib.sha256(path.read_bytes()).hexdigest() == wheel.metadata_sha256:
            return None
    metadata, _ = _read_metadata(wheel.path)
    if hashlib.sha256(metadata).hexdigest() != wheel.metadata_sha256:
        raise BadInputError(f"{wheel.filename}: it changed while being indexed; index again")
    return path if write_if_changed(path, metadata) else None


# -- pages ---------------------------------------------------------------------


def display_name(wheels: Sequence[IndexedWheel]) -> str:
    """The project's name as its newest wheel's METADATA writes it."""
    return max(wheels, key=lambda w: (w.version, w.filename)).name


def root_html(projects: Mapping[str, Sequence[IndexedWheel]]) -> str:
    links = [
        f'    <a href="{quote(project)}/">{html.escape(display_name(wheels))}</a><br>'
        for project, wheels in sorted(projects.items())
    ]
    return _page("Simple index", links)


def project_html(wheels: Sequence[IndexedWheel], base_url: str | None) -> str:
    links = []
    for wheel in wheels:
        attributes = [f'href="{html.escape(_href(wheel, base_url))}"']
        if wheel.requires_python:
            attributes.append(f'data-requires-python="{html.escape(wheel.requires_python)}"')
        digest = f"sha256={wheel.metadata_sha256}"
        attributes.append(f'data-dist-info-metadata="{digest}"')
        attributes.append(f'data-core-metadata="{digest}"')
        links.append(f"    <a {' '.join(attributes)}>{html.escape(wheel.filename)}</a><br>")
    return _page(f"Links for {display_name(wheels)}", links)


def root_json(projects: Mapping[str, Sequence[IndexedWheel]]) -> str:
    listed = [{"name": display_name(wheels)} for _, wheels in sorted(projects.items())]
    return _json({"meta": {"api-version": API_VERSION}, "projects": listed})


def project_json(wheels: Sequence[IndexedWheel], base_url: str | None) -> str:
    files: list[dict[str, Any]] = []
    for wheel in wheels:
        entry: dict[str, Any] = {
            "filename": wheel.filename,
            "url": wheel_url(wheel.filename, base_url),
            "hashes": {"sha256": wheel.sha256},
            "size": wheel.size,
            "core-metadata": {"sha256": wheel.metadata_sha256},
            "dist-info-metadata": {"sha256": wheel.metadata_sha256},
        }
        if wheel.requires_python:
            entry["requires-python"] = wheel.requires_python
        files.append(entry)
    versions = sorted({w.version for w in wheels})
    return _json(
        {
            "meta": {"api-version": API_VERSION},
            "name": wheels[0].project,
            "versions": [str(v) for v in versions],
            "files": files,
        }
    )


def _href(wheel: IndexedWheel, base_url: str | None) -> str:
    return f"{wheel_url(wheel.filename, base_url)}#sha256={wheel.sha256}"


def _page(title: str, links: Iterable[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html>",
            "  <head>",
            '    <meta charset="utf-8">',
            f'    <meta name="pypi:repository-version" content="{API_VERSION}">',
            f"    <title>{html.escape(title)}</title>",
            "  </head>",
            "  <body>",
            f"    <h1>{html.escape(title)}</h1>",
            *links,
            "  </body>",
            "</html>",
            "",
        ]
    )


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- files ---------------------------------------------------------------------


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename; False, touching
    nothing, when the file already holds exactly those bytes."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    with atomic_output(path) as stream:
        stream.write(data)
    return True


def _remove_stale(directory: Path, root: Path, keep: set[Path]) -> tuple[Path, ...]:
    """Pages of projects, and metadata files of wheels, that are no longer in the folder."""
    stale = [
        p
        for p in directory.glob(f"*.whl{METADATA_SUFFIX}")
        if p not in keep and not p.with_suffix("").exists()
    ]
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        stale.extend(folder / page for page in PAGES if folder / page not in keep)
    removed = []
    for path in sorted(stale):
        if path.is_file():
            path.unlink()
            removed.append(path)
            if path.parent != root and path.parent.parent == root:
                _remove_if_empty(path.parent)
    return tuple(removed)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # something else lives there too: leave it
        folder.rmdir()
