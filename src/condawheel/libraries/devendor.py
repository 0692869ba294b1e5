"""De-vendoring decisions (design section 5), as pure functions over wheel paths.

A library is vendored when the wheel ships a copy of one that a known conda package
provides: auditwheel's ``{name}.libs/libz-<8 hex>.so.1.3.1``, delocate's
``.dylibs/``, delvewheel's ``zlib-<32 hex>.dll``, or a plain copy under
site-packages. The plan removes each copy, renames the entries that named it back,
points the search path at the environment's ``lib/``, and declares the provider.
Files under ``{dist}.data/data/`` install into the prefix itself, as conda would put
them: they are the package's own libraries and never count as copies.
"""

from __future__ import annotations

import enum
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from condawheel.binaries.model import BinaryFormat, BinaryInfo
from condawheel.binaries.patcher import BinaryEdits
from condawheel.binaries.search_path import ORIGINS, portable_search_path
from condawheel.libraries.bundle_names import AUDITWHEEL_COPY, DELVEWHEEL_COPY, DYLIB_COPY
from condawheel.libraries.platform import is_interpreter_library, platform_provides
from condawheel.libraries.providers import LibraryIndex, Provider, library_key, requirement_for

Tool = Literal["auditwheel", "delocate", "delvewheel", "copy"]

_EXTENSION_MODULE = re.compile(r"\.(?:cpython-|pypy\d|abi3\.so$|cp3\d+t?-win)|\.pyd$", re.I)
_DATA = re.compile(r"^[^/]+\.data/(?P<scheme>[^/]+)/(?P<rest>.+)$")
_ORIGINS = ("$ORIGIN", "${ORIGIN}", "@loader_path")
_MACOS_SYSTEM = ("/usr/lib/", "/System/Library/")
_FORMAT_PLATFORMS = {BinaryFormat.ELF: "linux", BinaryFormat.MACHO: "osx"}


class Satisfaction(enum.Enum):
    PACKAGE = "inside the package"
    DEPENDENCY = "a declared conda dependency"
    PROVIDER = "a conda package found with --with, now declared"
    PLATFORM = "the platform"
    UNSATISFIED = "not found"


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryUse:
    """How one needed entry of one binary is satisfied once the plan is applied."""

    binary: str
    needed: str
    satisfaction: Satisfaction
    #: The providing wheel file, conda package name, or the platform's reason.
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VendoredLibrary:
    """A copy of a conda-provided library inside the wheel, to be removed."""

    path: str
    #: The name to put back where dependents name the copy (``libz.so.1``,
    #: ``@rpath/libz.1.dylib``, ``zlib.dll``).
    restores: str
    provider: Provider
    tool: Tool


@dataclass(frozen=True, slots=True, kw_only=True)
class DevendorPlan:
    """What to do to the wheel; ``edits`` are keyed by wheel path, like ``remove``. The
    default is a plan that changes nothing."""

    remove: tuple[str, ...] = ()
    edits: BinaryEdits = field(default_factory=BinaryEdits)
    #: ``Requires-External`` lines for providers not declared already; sorted, unique.
    requirements: tuple[str, ...] = ()
    uses: tuple[LibraryUse, ...] = ()
    warnings: tuple[str, ...] = ()
    vendored: tuple[VendoredLibrary, ...] = ()
    #: Search path entries of the build machine removed or made relative.
    notes: tuple[str, ...] = ()


def find_vendored(binaries: Mapping[str, BinaryInfo], index: LibraryIndex) -> list[VendoredLibrary]:
    """Every binary in the wheel that is a copy of a library some provider ships."""
    found = (_recognise(path, binaries[path], index) for path in sorted(binaries))
    return [vendored for vendored in found if vendored is not None]


def _recognise(path: str, info: BinaryInfo, index: LibraryIndex) -> VendoredLibrary | None:
    base = posixpath.basename(path)
    if _DATA.match(path) or _EXTENSION_MODULE.search(base):
        return None
    tool: Tool = "copy"
    if info.format is BinaryFormat.ELF:
        name = info.soname or base
        hashed = AUDITWHEEL_COPY.match(name)
        if hashed:
            name, tool = hashed["stem"] + hashed["ext"], "auditwheel"
    elif info.format is BinaryFormat.PE:
        name = base
        hashed = DELVEWHEEL_COPY.match(name)
        if hashed:
            name, tool = hashed["stem"] + hashed["ext"], "delvewheel"
    else:
        in_dylibs = any(f.endswith(".dylibs") for f in posixpath.dirname(path).split("/"))
        name = base if in_dylibs else posixpath.basename(info.soname or base)
        tool = "delocate" if in_dylibs else "copy"
        hashed = DYLIB_COPY.match(name) if in_dylibs else None
        if hashed and index.find(index.linked_name(hashed["stem"] + hashed["ext"])):
            name = hashed["stem"] + hashed["ext"]
    if tool == "copy" and not info.is_shared_library:
        return None
    restores = index.linked_name(name)
    provider = index.find(restores)
    if provider is None or is_interpreter_library(name):
        return None
    return VendoredLibrary(
        path=path, restores=_linked(restores, info), provider=provider, tool=tool
    )


def _linked(name: str, info: BinaryInfo) -> str:
    """How a binary of ``info``'s format names a library in the environment's lib/."""
    return f"@rpath/{name}" if info.format is BinaryFormat.MACHO else name


def installed_path(wheel_path: str, installed_root: str) -> str:
    """Where a wheel file lands, relative to the environment prefix."""
    data = _DATA.match(wheel_path)
    if data is None:
        return posixpath.normpath(posixpath.join(installed_root, wheel_path))
    scheme, rest = data["scheme"], data["rest"]
    folder = {"data": "", "scripts": "bin", "headers": "include"}.get(scheme, installed_root)
    return posixpath.normpath(posixpath.join(folder, rest))


def search_path_to_prefix_lib(wheel_path: str, installed_root: str, fmt_platform: str) -> str:
    """The ``$ORIGIN/...`` (linux) or ``@loader_path/...`` (osx) entry that reaches the
    environment's ``lib/`` from the installed location of ``wheel_path``.

    ``installed_root`` is where the wheel root lands relative to the prefix, e.g.
    ``lib/python3.12/site-packages``."""
    if fmt_platform not in ORIGINS:
        raise ValueError(f"no search path on {fmt_platform!r}; expected linux or osx")
    folder = posixpath.dirname(installed_path(wheel_path, installed_root)) or "."
    relative = posixpath.relpath("lib", folder)
    origin = ORIGINS[fmt_platform]
    return origin if relative == "." else f"{origin}/{relative}"


def plan_devendoring(
    binaries: Mapping[str, BinaryInfo],
    *,
    index: LibraryIndex,
    declared: Iterable[str],
    platform: str,
    installed_root: str,
    keep_search_path: Sequence[str] = (),
    prefixes: Sequence[str] = (),
) -> DevendorPlan:
    """Decide what to remove, rename and declare so the wheel uses conda's libraries.

    ``binaries`` maps wheel paths to their facts; ``declared`` holds the conda names
    already in the package's depends; ``platform`` is ``linux``, ``osx`` or ``win``.
    Search-path entries in ``keep_search_path`` survive even when they point into a
    folder of removed copies. Absolute entries go, but those inside one of
    ``prefixes`` (the environment built against) become relative to the binary.
    """
    vendored = find_vendored(binaries, index)
    copies = {v.path: v for v in vendored}
    wheel = _Wheel.of(binaries, installed_root)
    remaining = {posixpath.dirname(wheel.installed[p]) for p in binaries if p not in copies}
    emptied = {posixpath.dirname(wheel.installed[p]) for p in copies} - remaining
    context = _Context(
        wheel=wheel, copies=copies, index=index, declared=frozenset(declared), platform=platform
    )
    edits = BinaryEdits()
    uses: list[LibraryUse] = []
    requirements: set[str] = set()
    notes: list[str] = []
    for path in sorted(set(binaries) - set(copies)):
        found, relinked = context.uses_of(path, binaries[path], edits, requirements)
        uses += found
        if platform != "win":
            reach = _Reach(emptied=emptied, keep=keep_search_path, lib=relinked)
            entries = wheel.search_path(path, reach, prefixes, platform, notes)
            if entries is not None:
                edits.set_search_path(path, entries)
    return DevendorPlan(
        remove=tuple(copies),
        edits=edits,
        requirements=tuple(sorted(requirements)),
        uses=tuple(uses),
        warnings=tuple(
            f"{u.binary}: needs {u.needed}, which nothing provides"
            for u in uses
            if u.satisfaction is Satisfaction.UNSATISFIED
        ),
        vendored=tuple(vendored),
        notes=tuple(notes),
    )


def portable_search_paths(
    binaries: Mapping[str, BinaryInfo], *, installed_root: str, prefixes: Sequence[str]
) -> tuple[BinaryEdits, tuple[str, ...]]:
    """The edits that leave every ELF and Mach-O binary searching only the environment
    and itself, changing nothing else, and a note for each entry removed or made
    relative. Each binary is judged by its own format, as in a noarch package."""
    edits, notes = BinaryEdits(), list[str]()
    wheel = _Wheel.of(binaries, installed_root)
    for path in sorted(binaries):
        platform = _FORMAT_PLATFORMS.get(binaries[path].format)
        if platform is not None:
            entries = wheel.search_path(path, _Reach(), prefixes, platform, notes)
            if entries is not None:
                edits.set_search_path(path, entries)
    return edits, tuple(notes)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Choice:
    """How one needed library is satisfied, and what the binary should load instead."""

    restore: str
    relinked: bool
    satisfaction: Satisfaction
    detail: str
    provider: Provider | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    wheel: _Wheel
    copies: Mapping[str, VendoredLibrary]
    index: LibraryIndex
    declared: frozenset[str]
    platform: str

    def uses_of(
        self, path: str, info: BinaryInfo, edits: BinaryEdits, requirements: set[str]
    ) -> tuple[list[LibraryUse], bool]:
        """How each library ``path`` needs is satisfied, with the edits and requirements
        that takes; and whether the binary must reach the environment's libraries."""
        uses: list[LibraryUse] = []
        relinked = False
        for needed in info.needed:
            choice = self.choose(path, needed, info)
            if choice.restore != needed:
                edits.replace_needed(path, needed, choice.restore)
            if choice.satisfaction is Satisfaction.PROVIDER and choice.provider is not None:
                requirements.add(requirement_for(choice.provider.package))
            # Whatever the environment provides must be reachable from where this installs.
            reached = choice.satisfaction in (Satisfaction.PROVIDER, Satisfaction.DEPENDENCY)
            relinked = relinked or choice.relinked or reached
            use = LibraryUse(binary=path, needed=needed, satisfaction=choice.satisfaction,
                             detail=choice.detail)  # fmt: skip
            uses.append(use)
        return uses, relinked

    def choose(self, path: str, needed: str, info: BinaryInfo) -> _Choice:
        target = self.wheel.resolve(path, needed)
        copy = self.copies.get(target or "")
        if target is not None and copy is None:
            return _Choice(
                restore=needed, relinked=False, satisfaction=Satisfaction.PACKAGE, detail=target
            )
        if copy is not None:
            candidates = self.index.providers_of(copy.restores) or (copy.provider,)
            chosen = _choose(candidates, self.declared)
            return _Choice(restore=copy.restores, relinked=True, satisfaction=chosen[0],
                           detail=chosen[1], provider=chosen[2])  # fmt: skip
        satisfaction, detail, provider = _external(needed, self.index, self.declared, self.platform)
        restore, relinked = needed, False
        if provider is not None and needed.startswith("/"):
            # A build machine's path: load the environment's copy instead.
            restore, relinked = _linked(self.index.linked_name(needed), info), True
        return _Choice(restore=restore, relinked=relinked, satisfaction=satisfaction,
                       detail=detail, provider=provider)  # fmt: skip


def _choose(
    providers: Sequence[Provider], declared: frozenset[str]
) -> tuple[Satisfaction, str, Provider]:
    for provider in providers:
        if provider.package.name in declared:
            return Satisfaction.DEPENDENCY, provider.package.name, provider
    return Satisfaction.PROVIDER, providers[0].package.name, providers[0]


def _external(
    needed: str, index: LibraryIndex, declared: frozenset[str], platform: str
) -> tuple[Satisfaction, str, Provider | None]:
    system = platform_provides(needed, platform)
    # The loader takes an absolute install name as it is, and libpython from the
    # interpreter, whatever the environment holds.
    if system is not None and (needed.startswith("/") or is_interpreter_library(needed)):
        return Satisfaction.PLATFORM, system, None
    providers = index.providers_of(needed)
    if providers:
        return _choose(providers, declared)
    if system is not None:
        return Satisfaction.PLATFORM, system, None
    return Satisfaction.UNSATISFIED, "", None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Wheel:
    """The wheel's binaries, where they install, and the names loaders find them by."""

    binaries: Mapping[str, BinaryInfo]
    installed_root: str
    installed: Mapping[str, str]
    at: Mapping[str, str]
    by_name: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, binaries: Mapping[str, BinaryInfo], installed_root: str) -> _Wheel:
        installed = {p: installed_path(p, installed_root) for p in sorted(binaries)}
        by_name: dict[str, list[str]] = {}
        for path, info in binaries.items():
            keys = {library_key(path), library_key(info.soname or path)}
            for key in keys:
                by_name.setdefault(key, []).append(path)
        return cls(
            binaries=binaries,
            installed_root=installed_root,
            installed=installed,
            at={place: path for path, place in installed.items()},
            by_name={key: tuple(sorted(paths)) for key, paths in by_name.items()},
        )

    def entry_dir(self, path: str, entry: str) -> str | None:
        """The installed folder a search-path entry of ``path`` names, if relative."""
        for origin in _ORIGINS:
            if entry == origin or entry.startswith(f"{origin}/"):
                folder = posixpath.dirname(self.installed[path])
                return posixpath.normpath(posixpath.join(folder, entry[len(origin) + 1 :]))
        return None

    def resolve(self, path: str, needed: str) -> str | None:
        """The wheel binary that ``path``'s needed entry ``needed`` loads, if any."""
        if needed.startswith(_MACOS_SYSTEM):
            return None
        info = self.binaries[path]
        folders = [self.entry_dir(path, e) for e in (*info.rpath, *info.runpath)]
        if needed.startswith("@loader_path/"):
            return self.at.get(self.entry_dir(path, needed) or "")
        if needed.startswith("@rpath/"):
            rest = needed.removeprefix("@rpath/")
            for folder in filter(None, folders):
                found = self.at.get(posixpath.normpath(posixpath.join(folder, rest)))
                if found is not None:
                    return found
        candidates = [c for c in self.by_name.get(library_key(needed), ()) if c != path]
        # Prefer the copy the search path reaches, as the loader does.
        reached = [c for c in candidates if posixpath.dirname(self.installed[c]) in folders]
        return (reached or candidates)[0] if candidates else None

    def search_path(
        self,
        path: str,
        reach: _Reach,
        prefixes: Sequence[str],
        platform: str,
        notes: list[str],
    ) -> list[str] | None:
        """``path``'s search path without the build machine's folders nor those of
        removed copies, reaching the prefix's ``lib/`` if ``reach.lib``; ``None`` when
        that is what it has already."""
        info = self.binaries[path]
        existing = list(dict.fromkeys((*info.rpath, *info.runpath)))
        portable = portable_search_path(
            existing, installed=self.installed[path], prefixes=prefixes, platform=platform
        )
        for entry, replacement in portable.changed:
            done = f"now {replacement}" if replacement else "removed"
            notes.append(f"{path}: search path entry {entry} is the build machine's; {done}")
        entries = [
            e
            for e in portable.entries
            if e in reach.keep or self.entry_dir(path, e) not in reach.emptied
        ]
        if reach.lib and "lib" not in {self.entry_dir(path, e) for e in entries}:
            entries.append(search_path_to_prefix_lib(path, self.installed_root, platform))
        return None if entries == existing else entries


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reach:
    """What a search path must reach, and what it may no longer."""

    #: Installed folders whose every binary was a removed copy.
    emptied: frozenset[str] | set[str] = frozenset()
    #: Entries that stay even when they point into such a folder.
    keep: Sequence[str] = ()
    #: Whether it must reach the prefix's lib/.
    lib: bool = False
