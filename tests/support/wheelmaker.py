"""Wheels made in code for the tests, and the RECORD hash every test and checker uses.

Independent of ``condawheel``: a wheel here is a zip with the files given, a METADATA
with the fields given, a WHEEL file and a RECORD with real hashes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from packaging.tags import parse_tag

__all__ = ["make_wheel", "record_hash", "wheel_members", "write_wheel"]

_DATE = (2024, 1, 1, 0, 0, 0)


def record_hash(data: bytes) -> str:
    """The RECORD hash field of ``data``: ``sha256=`` and the unpadded urlsafe base64."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    build: str | None = None,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    files: Mapping[str, bytes | str] | None = None,
    metadata_name: str | None = None,
    metadata_version: str | None = None,
    purelib: bool | None = None,
    wheel_tags: Sequence[str] | None = None,
    record_edit: Callable[[list[str]], list[str]] | None = None,
) -> Path:
    """Write ``{name}-{version}[-{build}]-{tag}.whl`` into ``directory``; return its path.

    ``files`` default to one module named after the distribution; a METADATA among them
    replaces the one made from ``metadata_name``/``metadata_version`` (which let it
    disagree with the file name) and ``requires_*``. WHEEL lists the tags of the
    (possibly compressed) ``tag`` unless ``wheel_tags`` are given; Root-Is-Purelib is
    ``purelib``, by default whether the tag ends in ``-none-any``. ``record_edit``
    rewrites the RECORD rows, to make a wheel that lies about its content.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[-_.]+", "_", name).lower()  # as the wheel spec names the files
    dist_info = f"{stem}-{version}.dist-info"
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {metadata_name or name}",
        f"Version: {metadata_version or version}",
    ]
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {requirement}" for requirement in requires_dist)
    members: dict[str, bytes] = {
        path: data.encode() if isinstance(data, str) else data
        for path, data in (files or {f"{stem}/__init__.py": f"NAME = {name!r}\n"}).items()
    }
    members.setdefault(f"{dist_info}/METADATA", ("\n".join(lines) + "\n").encode())
    tags = wheel_tags if wheel_tags is not None else sorted(map(str, parse_tag(tag)))
    root_is_purelib = tag.endswith("-none-any") if purelib is None else purelib
    members[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: wheelmaker\n"
        f"Root-Is-Purelib: {'true' if root_is_purelib else 'false'}\n"
        + "".join(f"Tag: {t}\n" for t in tags)
        + (f"Build: {build}\n" if build else "")
    ).encode()
    record = [f"{path},{record_hash(data)},{len(data)}" for path, data in members.items()]
    record.append(f"{dist_info}/RECORD,,")
    if record_edit is not None:
        record = record_edit(record)
    members[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"{stem}-{version}{f'-{build}' if build else ''}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, _DATE)
            # scripts are installed executable from the mode their member has
            info.external_attr = (0o100755 if "/scripts/" in member else 0o100644) << 16
            archive.writestr(info, data)
    return path


def wheel_members(
    name: str,
    version: str,
    files: Mapping[str, bytes | str],
    *,
    tag: str = "py3-none-any",
    dist_info_files: Mapping[str, bytes | str] | None = None,
    metadata: bytes | str | None = None,
    wheel: bytes | str | None = None,
) -> dict[str, bytes]:
    """The members of a wheel, RECORD left out: ``files`` at the root (``.data/``
    paths included), and the `.dist-info` files, any of which may be overridden."""
    stem = re.sub(r"[-_.]+", "_", name).lower()
    dist_info = f"{stem}-{version}.dist-info"
    members: dict[str, bytes | str] = dict(files)
    members[f"{dist_info}/METADATA"] = (
        metadata
        if metadata is not None
        else f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    members[f"{dist_info}/WHEEL"] = (
        wheel
        if wheel is not None
        else f"Wheel-Version: 1.0\nGenerator: wheelmaker\nRoot-Is-Purelib: true\nTag: {tag}\n"
    )
    for path, data in (dist_info_files or {}).items():
        members[f"{dist_info}/{path}"] = data
    return {k: v.encode() if isinstance(v, str) else v for k, v in members.items()}


def write_wheel(
    path: Path,
    members: Mapping[str, bytes],
    *,
    record: bool = True,
    rows: Mapping[str, str] | None = None,
    duplicate: str | None = None,
    modes: Mapping[str, int] | None = None,
    dates: Mapping[str, tuple[int, int, int, int, int, int]] | None = None,
) -> Path:
    """A wheel of exactly ``members``, with a true RECORD (unless ``record`` is false);
    ``rows`` replace RECORD rows by member (``"sha256=...,12"``, or "" to leave the
    member out); ``duplicate`` names a member written twice; ``modes`` and ``dates``
    give members a file mode and a time other than 0o644 and 2024-01-01."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dist_info = next(m.split("/")[0] for m in members if m.split("/")[0].endswith(".dist-info"))
    out = dict(members)
    if record:
        lines = []
        for member, data in members.items():
            row = (rows or {}).get(member, f"{record_hash(data)},{len(data)}")
            if row:
                lines.append(f"{member},{row}")
        lines.extend(f"{m},{r}" for m, r in (rows or {}).items() if m not in members)
        lines.append(f"{dist_info}/RECORD,,")
        out[f"{dist_info}/RECORD"] = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in out.items():
            info = zipfile.ZipInfo(member, (dates or {}).get(member, _DATE))
            info.external_attr = ((modes or {}).get(member, 0o644) | 0o100000) << 16
            archive.writestr(info, data)
        if duplicate is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
                archive.writestr(zipfile.ZipInfo(duplicate, _DATE), out[duplicate])
    return path
