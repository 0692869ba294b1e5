"""The macOS layout of a standalone wheel: copies in ``.dylibs/``, loaded by ``@loader_path``.

As delocate does it, the copies go into ``{package}/.dylibs/`` when the wheel has one
top-level package, so that they belong to it; a wheel with several (or none) gets
one ``{dist}.dylibs/`` folder at its root instead, so that no two wheels installed
side by side can share a folder. Each copy is named after the library with eight hex
digits of its content's sha256 after the first part of the name, as auditwheel names
its copies (``libz.1.dylib`` -> ``libz-1a2b3c4d.1.dylib``): two different builds of one
library then never meet under one name. Every binary loads each copy by
``@loader_path/<path from its own folder>``, which dyld resolves against the folder
of the binary that asks, wherever the wheel is installed. Each copy's install name
(``LC_ID_DYLIB``) becomes ``@rpath/<copy>``, conda-forge's form, so that nothing in it
names the build machine. The patcher re-signs every edited Mach-O file ad hoc, which
arm64 requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from condawheel.binaries.patcher import BinaryEdits
from condawheel.libraries.bundle_names import (
    BundleNameError,
    content_tag,
    library_file_name,
    relative,
    wheel_path,
)

__all__ = ["MacOSLayout"]

#: Hex digits of the content hash in a copy's name, as auditwheel uses.
HASH_LENGTH = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class MacOSLayout:
    """Where a macOS wheel's bundled dylibs go; ``packages`` are its top-level packages."""

    packages: tuple[str, ...] = ()

    @property
    def platform(self) -> str:
        return "osx"

    def folder(self, dist: str) -> str:
        if len(self.packages) == 1:
            return wheel_path(f"{self.packages[0]}/.dylibs")
        return wheel_path(f"{dist}.dylibs")

    def copy_name(self, name: str, digest: str) -> str:
        base = library_file_name(name, path_allowed=True)
        stem, dot, rest = base.partition(".")
        if not stem or not rest.endswith(("dylib", "so")):
            raise BundleNameError(f"cannot bundle library {name!r}: not a .dylib or .so name")
        return f"{stem}-{content_tag(digest, HASH_LENGTH)}{dot}{rest}"

    def wire(self, edits: BinaryEdits, binary: str, needs: Mapping[str, str]) -> None:
        wheel_path(binary)
        for linked, copy in sorted(needs.items()):
            new = f"@loader_path/{relative(wheel_path(copy), binary)}"
            edits.replace_needed(binary, linked, new)

    def name_copy(self, edits: BinaryEdits, copy: str) -> None:
        name = wheel_path(copy).rpartition("/")[2]
        edits.set_soname(copy, f"@rpath/{library_file_name(name, path_allowed=False)}")

    def rewrite(self, member: str, data: bytes, folder: str) -> bytes | None:
        return None  # dyld finds the copies by the install names alone
