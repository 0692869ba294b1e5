"""What each binary of a converted package needs, and what provides it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from condawheel.binaries import BinaryFormat
from condawheel.binaries.patcher import BinaryEdits
from condawheel.conda.known import KnownPackages
from condawheel.conversion.dependencies import DependencyKind
from condawheel.conversion.plan import Plan
from condawheel.conversion.tags import FoundBinary
from condawheel.libraries.devendor import (
    LibraryUse,
    Satisfaction,
    plan_devendoring,
    portable_search_paths,
)
from condawheel.libraries.providers import LibraryIndex

_SITE = re.compile(r"^(lib/python\d+\.\d+t?/site-packages)/")
_PLATFORMS = {"linux", "osx", "win"}
_FORMAT_PLATFORMS = {BinaryFormat.ELF: "linux", BinaryFormat.MACHO: "osx", BinaryFormat.PE: "win"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryCheck:
    uses: tuple[LibraryUse, ...] = ()
    #: Libraries nothing provides (with --with given, so the answer is known).
    unsatisfied: tuple[str, ...] = ()
    #: Why some needs could not be checked.
    notes: tuple[str, ...] = ()
    #: Vendored copies to leave out, the edits to the binaries that used them, and
    #: the providers to declare (Requires-External).
    remove: tuple[str, ...] = ()
    edits: BinaryEdits = field(default_factory=BinaryEdits)
    requirements: tuple[str, ...] = ()


def check_libraries(
    plan: Plan, binaries: Sequence[FoundBinary], known: KnownPackages
) -> LibraryCheck:
    """How each needed library is satisfied: by the package, a declared dependency
    (found in what ``known`` describes), the platform, or nothing."""
    if not binaries:
        return LibraryCheck()
    index = LibraryIndex.from_known(known)
    platform = plan.package.platform
    prefixes = sorted(
        {e.prefix_placeholder for e in (plan.package.paths or {}).values() if e.prefix_placeholder}
    )
    # Whatever else changes, no binary may search the build machine's folders; those in
    # the placeholder prefix are the environment's, relative to the binary.
    portable, moved = portable_search_paths(
        {b.path: b.info for b in binaries}, installed_root=_installed_root(plan), prefixes=prefixes
    )
    if platform not in _PLATFORMS:
        uses = _uses_by_format(plan, binaries, index)
        return LibraryCheck(uses=uses, notes=moved, edits=portable)
    declared = [
        d.spec.name
        for d in plan.dependencies.items
        if d.kind in (DependencyKind.EXTERNAL, DependencyKind.DIST)
    ]
    result = plan_devendoring(
        {b.path: b.info for b in binaries},
        index=index,
        declared=declared,
        platform=platform,
        installed_root=_installed_root(plan),
        prefixes=prefixes,
    )
    unsatisfied = [u for u in result.uses if u.satisfaction is Satisfaction.UNSATISFIED]
    messages = tuple(f"{u.binary}: needs {u.needed}, which nothing provides" for u in unsatisfied)
    # A conda package's binaries already find its environment; they are only relinked
    # when a vendored copy goes.
    if known.packages or not unsatisfied:
        return LibraryCheck(
            uses=result.uses,
            unsatisfied=messages,
            notes=result.notes if result.remove else moved,
            remove=result.remove,
            edits=result.edits if result.remove else portable,
            requirements=result.requirements,
        )
    note = _not_checked(unsatisfied)
    return LibraryCheck(uses=result.uses, notes=(note, *moved), edits=portable)


def _uses_by_format(
    plan: Plan, binaries: Sequence[FoundBinary], index: LibraryIndex
) -> tuple[LibraryUse, ...]:
    """A noarch package may still carry binaries (Windows launchers): judge each by its
    own format, and change nothing else."""
    return tuple(
        use
        for fmt, os_name in _FORMAT_PLATFORMS.items()
        for use in plan_devendoring(
            {b.path: b.info for b in binaries if b.info.format is fmt},
            index=index,
            declared=(),
            platform=os_name,
            installed_root=_installed_root(plan),
        ).uses
    )


def _not_checked(unsatisfied: Sequence[LibraryUse]) -> str:
    """Without --with the dependencies' files are unknown: say so once, not per library."""
    return (
        f"{len(unsatisfied)} needed librar{'y' if len(unsatisfied) == 1 else 'ies'} "
        f"({', '.join(sorted({u.needed for u in unsatisfied}))}) not checked: pass --with "
        "the conda environment or channel of the dependencies to check them"
    )


def _installed_root(plan: Plan) -> str:
    if plan.package.is_windows:
        return "Lib/site-packages"
    for path in plan.package.paths or ():
        found = _SITE.match(path)
        if found:
            return found.group(1)
    python = plan.dependencies.find("python")
    bound = python.spec.lower_bound if python else None
    if bound is not None and len(bound.release) >= 2:
        return f"lib/python{bound.release[0]}.{bound.release[1]}/site-packages"
    return "lib/python3/site-packages"
