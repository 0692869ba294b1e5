"""What a conversion did and why, as plain data for `inspect` and `--json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from condawheel.binaries import BinaryFormat, BinaryInfo
from condawheel.conversion.core import ConvertResult
from condawheel.libraries.devendor import LibraryUse
from condawheel.wheel.tags import GLIBC_BASELINE

if TYPE_CHECKING:  # a package's report need not load repair
    from condawheel.conversion.repair import RepairResult
    from condawheel.conversion.standalone import Standalone


def report(result: ConvertResult) -> dict[str, Any]:
    plan = result.plan
    package = plan.package
    return {
        "input": str(result.input),
        "package": {
            "name": package.name,
            "version": package.version,
            "build": package.build,
            "subdir": package.subdir,
            "noarch": package.noarch.value,
        },
        "wheel": result.wheel.name,
        "distribution": {"name": plan.dist.name, "version": plan.dist.version},
        "build_tag": plan.build_tag,
        "tags": {
            "tag": result.tags.tag,
            "python": result.tags.python,
            "abi": result.tags.abi,
            "platform": result.tags.platform,
            "reasons": list(result.tags.reasons),
        },
        "files": _files(result),
        "binaries": _binaries(result),
        "libraries": _uses(result.libraries.uses),
        "dependencies": [
            {
                "conda": d.conda_spec,
                "kind": d.kind.name.lower(),
                "requirement": d.requirement,
                "reason": d.reason,
            }
            for d in plan.dependencies.items
        ],
        "standalone": standalone_report(result.standalone),
        "notes": [*plan.notes, *result.libraries.notes],
        "warnings": list(result.warnings),
    }


def standalone_report(standalone: Standalone | None) -> dict[str, Any] | None:
    """What --standalone bundles (library, provider, size, licence) and the tag."""
    if standalone is None:
        return None
    licences = {licence.name: licence.expression for licence in standalone.licences}
    return {
        "tag": standalone.platform,
        "why": standalone.why,
        "size": standalone.plan.size,
        "bundled": [
            {
                "library": library.name,
                "wheel_path": library.wheel_path,
                "provider": library.package,
                "version": library.copy.provider.package.version,
                "build": library.copy.provider.package.build,
                "size": library.copy.size,
                "licence": licences.get(library.package),
                "reason": library.reason,
            }
            for library in standalone.plan.libraries
        ],
    }


def _files(result: ConvertResult) -> dict[str, Any]:
    plan, payload = result.plan, result.payload
    return {
        "total": payload.file_count,
        "by_scheme": dict(payload.files_by_scheme),
        "metadata_basis": plan.layout.metadata_dir,
        "prefix_placeholders": [
            {"path": r.path, "placeholder": r.placeholder, "mode": r.mode}
            for r in payload.prefix_records
        ],
        "notes": list(payload.notes),
    }


def _binaries(result: ConvertResult) -> list[dict[str, Any]]:
    return [
        {
            "path": b.path,
            "format": b.info.format.value,
            "arch": b.info.arch,
            "soname": b.info.soname,
            "needed": list(b.info.needed),
            "glibc_floor": _version(b.info.glibc_floor),
            "macos_floor": _version(b.info.macos_floor),
            "floor": _floor(b.info),
        }
        for b in result.payload.binaries
    ]


def _uses(uses: Sequence[LibraryUse]) -> list[dict[str, Any]]:
    """How each library a binary needs is satisfied."""
    return [
        {
            "binary": u.binary,
            "needs": u.needed,
            "satisfied_by": u.satisfaction.name.lower(),
            "detail": u.detail,
        }
        for u in uses
    ]


def _floor(info: BinaryInfo) -> str | None:
    """The oldest platform the binary runs on: its own need, else the baseline."""
    if info.format is BinaryFormat.ELF:
        return f"glibc {_version(max(info.glibc_floor or GLIBC_BASELINE, GLIBC_BASELINE))}"
    if info.format is BinaryFormat.MACHO:
        return f"macOS {_version(info.macos_floor)}" if info.macos_floor else None
    return None  # Windows wheels carry no version floor in their tag


def _version(value: tuple[int, int] | None) -> str | None:
    return f"{value[0]}.{value[1]}" if value else None


def repair_report(result: RepairResult) -> dict[str, Any]:
    """What `repair` did (or, from `inspect`, would do) to a wheel, as JSON-ready data."""
    return {
        "input": str(result.input),
        "wheel": str(result.wheel),
        "tag": result.tag,
        "removed": list(result.plan.remove),
        "requires_external": list(result.plan.requirements),
        "libraries": _uses(result.plan.uses),
        "standalone": standalone_report(result.standalone),
        "notes": list(result.plan.notes),
        "warnings": list(result.warnings),
    }
