"""The read-only facts condawheel needs about one binary, whatever its format."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from condawheel.exceptions import BadInputError


class BinaryReadError(BadInputError):
    """A file that looked like a binary could not be parsed (truncated or corrupt).

    The message is short and lower-case (``"corrupt ELF file: ..."``); callers
    prefix the file name.
    """

    @classmethod
    def corrupt(cls, kind: str, exc: BaseException) -> BinaryReadError:
        """Wrap a parser's exception as ``corrupt <kind> file: <first line of its message>``."""
        lines = str(exc).strip().splitlines()
        reason = lines[0].rstrip(".") if lines else type(exc).__name__
        # Some exceptions (pefile's) show the repr of their message.
        if len(reason) >= 2 and reason[0] == reason[-1] and reason[0] in "'\"":
            reason = reason[1:-1].rstrip(".")
        # Library messages start with a capital; ours are lower-case throughout,
        # but acronyms ("SHT_SYMTAB ...", "NT Headers ...") stay as they are.
        if reason[1:2].islower():
            reason = reason[:1].lower() + reason[1:]
        if len(reason) > 200:
            reason = reason[:197] + "..."
        return cls(f"corrupt {kind} file: {reason}")


class BinaryFormat(enum.Enum):
    ELF = "elf"
    MACHO = "macho"
    PE = "pe"


@dataclass(frozen=True, slots=True, kw_only=True)
class BinaryInfo:
    """Facts read from one ELF, Mach-O or PE file.

    ``arch`` uses the names found in wheel platform tags: ``x86_64``, ``i686``,
    ``aarch64``, ``arm64``, ``ppc64le``, ``s390x``, ``armv7l``, ``riscv64``,
    ``amd64`` (PE x86-64), ``win32`` (PE i386). A fat Mach-O lists every
    architecture in ``archs``; ``arch`` is the first.
    """

    format: BinaryFormat
    arch: str
    archs: tuple[str, ...] = ()
    #: ELF SONAME or Mach-O install name (LC_ID_DYLIB); ``None`` for executables.
    soname: str | None = None
    #: DT_NEEDED, LC_LOAD_DYLIB (and weak / re-export / upward), or PE DLL imports.
    needed: tuple[str, ...] = ()
    #: DT_RPATH entries (ELF only).
    rpath: tuple[str, ...] = ()
    #: DT_RUNPATH entries (ELF) or LC_RPATH entries (Mach-O).
    runpath: tuple[str, ...] = ()
    #: True for a shared library / dylib / DLL, False for an executable or object.
    is_shared_library: bool = False
    #: Newest ``GLIBC_x.y`` symbol version required, as ``(x, y)`` (ELF only).
    glibc_floor: tuple[int, int] | None = None
    #: Minimum macOS version from LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX.
    macos_floor: tuple[int, int] | None = None
    #: ``(library, version)`` for every symbol version required (ELF only):
    #: ``("libstdc++.so.6", "GLIBCXX_3.4.30")``, as manylinux policies judge them.
    version_needs: tuple[tuple[str, str], ...] = ()
