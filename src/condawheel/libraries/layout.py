"""How a standalone wheel's bundled libraries are named, placed and wired on one platform.

Bundling is de-vendoring run backwards: the libraries a wheel's binaries need beyond
what the target platform guarantees are copied in from their conda providers. What
differs between Linux, macOS and Windows is only where the copies go, what they are
called and how a binary is made to load them; each platform answers that here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from condawheel.binaries.patcher import BinaryEdits
from condawheel.libraries.bundle_names import BundleNameError

__all__ = ["BundleLayout", "layout_for", "top_level_packages"]


class BundleLayout(Protocol):
    """One platform's way of bundling libraries into a wheel."""

    #: ``"linux"``, ``"osx"`` or ``"win"``.
    @property
    def platform(self) -> str: ...

    def folder(self, dist: str) -> str:
        """The wheel folder (from the wheel root, ``/``-separated) the copies go into,
        for the distribution whose normalised name is ``dist``."""
        ...

    def copy_name(self, name: str, digest: str) -> str:
        """The file name of the copy of library ``name`` (as binaries link it) whose
        content has sha256 ``digest``: unique, so it never clashes with a system copy."""
        ...

    def wire(self, edits: BinaryEdits, binary: str, needs: Mapping[str, str]) -> None:
        """Queue the edits that make ``binary`` (a wheel path) load each library it
        links (the key, as linked) from the bundled copy at that wheel path (the value)."""
        ...

    def name_copy(self, edits: BinaryEdits, copy: str) -> None:
        """Queue the edits that give the copy at wheel path ``copy`` the identity its
        file name says (ELF SONAME, Mach-O install name); PE needs none."""
        ...

    def rewrite(self, member: str, data: bytes, folder: str) -> bytes | None:
        """The new content of a non-binary wheel member that the loader needs changed
        (Windows: a package's ``__init__.py`` adds ``folder`` to the DLL search path),
        or None to leave it as it is."""
        ...


def layout_for(platform: str, *, packages: Iterable[str] = ()) -> BundleLayout:
    """The layout of ``platform`` (``"linux"``, ``"osx"`` or ``"win"``).

    ``packages`` are the wheel's outermost import packages (:func:`top_level_packages`):
    on macOS the copies go inside the package when there is exactly one, as delocate
    puts them; on Windows each package's ``__init__.py`` learns where the DLLs are.
    """
    factory = _LAYOUTS.get(platform)
    if factory is None:
        known = ", ".join(sorted(_LAYOUTS))
        raise BundleNameError(f"no standalone layout for platform {platform!r}; known: {known}")
    return factory(tuple(packages))


def _linux(packages: tuple[str, ...]) -> BundleLayout:
    from condawheel.libraries.linux_layout import LinuxLayout

    return LinuxLayout()


def _macos(packages: tuple[str, ...]) -> BundleLayout:
    from condawheel.libraries.macos_layout import MacOSLayout

    return MacOSLayout(packages=packages)


def _windows(packages: tuple[str, ...]) -> BundleLayout:
    from condawheel.libraries.windows_layout import WindowsLayout

    return WindowsLayout(packages=packages)


# Imported on use: a conversion needs the layout of one platform only.
_LAYOUTS: dict[str, Callable[[tuple[str, ...]], BundleLayout]] = {
    "linux": _linux,
    "osx": _macos,
    "win": _windows,
}

_DATA_LIBS = re.compile(r"^[^/]+\.data/(?:purelib|platlib)/")


def top_level_packages(members: Iterable[str]) -> tuple[str, ...]:
    """The outermost import packages of a wheel, sorted: each folder with an
    ``__init__.py`` (also under ``{dist}.data/purelib`` or ``platlib``) none of whose
    parents has one, so ``ns/sub`` for a package inside the namespace package ``ns``."""
    packages = set()
    for member in members:
        folder, _, base = _DATA_LIBS.sub("", member).rpartition("/")
        if base == "__init__.py" and folder and all(p.isidentifier() for p in folder.split("/")):
            packages.add(folder)
    return tuple(sorted(p for p in packages if not _inside(p, packages)))


def _inside(folder: str, packages: set[str]) -> bool:
    parts = folder.split("/")
    return any("/".join(parts[:end]) in packages for end in range(1, len(parts)))
