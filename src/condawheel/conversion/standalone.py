"""The standalone alternative to de-vendoring in the one binary step (design section 5b).

Where a conda wheel leaves its libraries to the environment, a standalone wheel bundles
them: the copies join the held binaries, the edits that wire them are applied with the
others, and the platform tag is the standard one the result satisfies (on Linux, the
manylinux policy the bundling plan was made for). `convert` and `repair` both call
:func:`bundle` on the binaries they hold.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from condawheel.conversion.held import HeldBinaries
from condawheel.conversion.relink import relink
from condawheel.conversion.tags import FoundBinary, platform_tag
from condawheel.libraries.bundling import BundlePlan, bundle_licences, plan_bundle
from condawheel.libraries.copies import LibraryFetcher, PackageLicence
from condawheel.libraries.layout import BundleLayout, layout_for, top_level_packages
from condawheel.libraries.providers import LibraryIndex
from condawheel.stale import held_prefix
from condawheel.wheel.tags import LINUX_ARCHS


@dataclass(frozen=True, slots=True, kw_only=True)
class Standalone:
    """What bundling did to a wheel: the plan, the tag, and what the wheel must add."""

    plan: BundlePlan
    layout: BundleLayout
    #: The wheel's distribution name, as the layout's folder is named after it.
    dist: str
    #: The platform tag, standard (``manylinux_2_17_x86_64.manylinux2014_x86_64``).
    platform: str
    why: str
    licences: tuple[PackageLicence, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The binaries as the wheel will hold them, copies included.
    binaries: tuple[FoundBinary, ...] = field(default=())

    @property
    def packages(self) -> tuple[str, ...]:
        """The conda packages bundled, whose ``Requires-External`` goes."""
        return self.plan.packages

    def rewriter(self, member: str) -> Callable[[bytes], bytes]:
        """What the layout makes of wheel member ``member`` (a package's ``__init__.py``
        on Windows learns where the DLLs are); the identity for the rest."""
        folder = self.layout.folder(self.dist)

        def rewrite(data: bytes) -> bytes:
            if not self.plan.libraries:  # nothing to find: the files stay as they are
                return data
            changed = self.layout.rewrite(member, data, folder)
            return data if changed is None else changed

        return rewrite

    def licence_files(self) -> dict[str, bytes]:
        """``<conda name>/<file>`` -> content, for ``.dist-info/licenses/``."""
        return {
            f"{licence.name}/{name}": data
            for licence in self.licences
            for name, data in sorted(licence.files.items())
        }


def bundle(
    held: HeldBinaries,
    binaries: Sequence[FoundBinary],
    *,
    index: LibraryIndex,
    subdir: str,
    dist: str,
    members: Iterable[str] = (),
    max_size: int | None = None,
) -> Standalone:
    """Bundle what the held ``binaries`` need into the wheel: the copies are held with
    them and every edit applied. ``subdir`` is the conda subdir the binaries are for,
    ``dist`` the wheel's normalised distribution name, ``members`` the wheel's files
    (where its import packages are)."""
    platform, _, arch = subdir.partition("-")
    members = tuple(members)
    layout = layout_for(platform, packages=top_level_packages(members))
    with tempfile.TemporaryDirectory(prefix=held_prefix()) as scratch:
        plan = plan_bundle(
            {b.path: b.info for b in binaries},
            index=index,
            fetcher=LibraryFetcher(Path(scratch), index),
            layout=layout,
            dist=dist,
            arch=LINUX_ARCHS.get(arch, arch),
            max_size=max_size,
        )
        for library in plan.libraries:
            held.adopt(library.wheel_path, library.copy.path)
    copies = [
        FoundBinary(path=library.wheel_path, in_root=True, info=library.copy.info)
        for library in plan.libraries
    ]
    kept = relink(held, [*binaries, *copies], remove=(), edits=plan.edits)
    if plan.libraries:
        _rewrite_held(held, layout, members, binaries, layout.folder(dist))
    if plan.policy is not None:
        tag, why = plan.policy.tag, plan.why
    else:
        tag, why, _ = platform_tag(subdir, kept, plain=True)
    licences, copyleft = bundle_licences(plan)
    return Standalone(
        plan=plan,
        layout=layout,
        dist=dist,
        platform=tag,
        why=why,
        licences=licences,
        warnings=(*plan.warnings, *copyleft, *_unfound(layout, plan, members, dist)),
        binaries=kept,
    )


def _unfound(
    layout: BundleLayout, plan: BundlePlan, members: Sequence[str], dist: str
) -> tuple[str, ...]:
    """On Windows the DLL folder is added by a top-level package's ``__init__.py``: a
    wheel with none leaves its extension modules unable to find the bundled DLLs."""
    if layout.platform != "win" or not plan.libraries or top_level_packages(members):
        return ()
    return (
        f"no top-level package whose __init__.py could add {layout.folder(dist)} to the DLL "
        "search path: extension modules outside a package will not find the bundled DLLs "
        "unless the importer calls os.add_dll_directory on it first",
    )


def _rewrite_held(
    held: HeldBinaries,
    layout: BundleLayout,
    members: Iterable[str],
    binaries: Sequence[FoundBinary],
    folder: str,
) -> None:
    """Let the layout change the held files that are not binaries (Windows: a package's
    ``__init__.py`` learns where the DLLs are)."""
    paths = {b.path for b in binaries}
    for member in sorted(set(members)):
        if member in held and member not in paths:
            place = held.path(member)
            changed = layout.rewrite(member, place.read_bytes(), folder)
            if changed is not None:
                place.write_bytes(changed)
