"""The files of the wheel's one `.dist-info` directory (design sections 1 and 4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.tags import parse_tag

from condawheel.conversion.metadata import (
    edit_metadata,
    generate_metadata,
    header_values,
    merge_entry_points,
    repair_metadata,
    wheel_file,
)
from condawheel.conversion.payload import Payload
from condawheel.conversion.plan import Plan
from condawheel.conversion.tags import TagDecision
from condawheel.wheel.prefix import PREFIX_MANIFEST, write_manifest

#: Files of a kept dist-info that describe an installation, not a distribution.
_INSTALLATION_FILES = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"})
#: egg-info files that have no place in a dist-info.
_EGG_ONLY = frozenset(
    {
        "PKG-INFO",
        "SOURCES.txt",
        "requires.txt",
        "dependency_links.txt",
        "not-zip-safe",
        "zip-safe",
        "installed-files.txt",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DistInfo:
    #: Path inside the `.dist-info` -> content, RECORD excepted (the writer adds it).
    files: Mapping[str, bytes]
    warnings: tuple[str, ...]


def dist_info_files(plan: Plan, payload: Payload, tags: TagDecision) -> DistInfo:
    """The files of the wheel's `.dist-info`, and what had to be repaired in them."""
    package = plan.package
    kept = payload.metadata_files
    is_egg = bool(plan.layout.metadata_dir and plan.layout.metadata_dir.endswith(".egg-info"))
    files: dict[str, bytes] = {
        name: data
        for name, data in kept.items()
        if name not in _INSTALLATION_FILES
        and not (is_egg and name in _EGG_ONLY)
        and name != "METADATA"
    }
    licences = {
        f"licenses/{name}": data
        for name, data in package.licenses.items()
        if f"licenses/{name}" not in files
    }
    files.update(licences)
    original = kept.get("PKG-INFO" if is_egg else "METADATA")
    warnings: list[str] = []
    if original is not None:
        edited = edit_metadata(original, plan.dist, plan.dependencies)
        for name in header_values(edited, "License-File"):
            # Before Metadata 2.4, licence files sat at the dist-info root.
            if f"licenses/{name}" not in files and name in files:
                files[f"licenses/{name}"] = files.pop(name)
        present = {n.removeprefix("licenses/") for n in files if n.startswith("licenses/")}
        files["METADATA"], warnings = repair_metadata(edited, present)
    else:
        licence_names = sorted(name.removeprefix("licenses/") for name in licences)
        files["METADATA"] = generate_metadata(package, plan.dist, plan.dependencies, licence_names)
    entry_points = merge_entry_points(kept.get("entry_points.txt"), package.entry_points)
    if entry_points is not None:
        files["entry_points.txt"] = entry_points
    # A compressed tag set (manylinux_2_17_x86_64.manylinux2014_x86_64) is one Tag each.
    expanded = sorted(str(tag) for tag in parse_tag(tags.tag))
    files["WHEEL"] = wheel_file(expanded, purelib=tags.platform == "any", build=plan.build_tag)
    if payload.prefix_records:
        files[PREFIX_MANIFEST] = prefix_manifest(payload)
    return DistInfo(files=dict(sorted(files.items())), warnings=tuple(warnings))


def prefix_manifest(payload: Payload) -> bytes:
    """`conda/prefix.json`: what `condawheel install` must rewrite, as conda would."""
    return write_manifest(payload.prefix_records)
