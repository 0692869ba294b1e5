"""How a standalone wheel's bundled libraries are named, placed and wired on one platform.

Bundling is de-vendoring run backwards: the libraries a wheel's binaries need beyond
what the target platform guarantees are copied in from their conda providers. What
differs between Linux, macOS and Windows is only where the copies go, what they are
called and how a binary is made to load them; each platform answers that here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from condawheel.binaries.patcher import BinaryEdits


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
