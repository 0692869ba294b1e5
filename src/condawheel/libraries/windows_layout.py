"""The Windows layout of a standalone wheel: name-mangled DLLs in ``{dist}.libs/``, as
delvewheel lays them out.

Windows keeps one DLL per name in a process, whoever loaded it first, so each copy
gets the 32 hex digits of its content's sha256 after its stem, delvewheel's mangling
(``zlib.dll`` -> ``zlib-<32 hex>.dll``), and the import and delay-import tables of
every binary that needs it name the mangled file instead. The copies stay findable
by one short block at the top of each top-level package's ``__init__.py`` that adds
the folder to the DLL search path with ``os.add_dll_directory`` (Python 3.8 and later
search no ``PATH`` for an extension's DLLs). Keeping delvewheel's naming means
``condawheel repair`` recognises the copies when it turns such a wheel back into one
that uses a conda environment. A PE file has no identity of its own to rename.
"""

from __future__ import annotations

import ast
import re
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

__all__ = ["LOADER_END", "LOADER_START", "WindowsLayout", "loader_patch", "without_loader_patch"]

#: Hex digits of the content hash in a copy's name: delvewheel's.
HASH_LENGTH = 32
LOADER_START = "# start condawheel dll directory"
LOADER_END = "# end condawheel dll directory"
_LOADER = re.compile(
    rb"# start condawheel dll directory\r?\n.*?# end condawheel dll directory\r?\n", re.DOTALL
)
_TOP_LEVEL_INIT = re.compile(r"^(?:[^/]+\.data/(?:purelib|platlib)/)?[^/.]+/__init__\.py$")


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowsLayout:
    """Where a Windows wheel's bundled DLLs go, and how they are found. ``packages``
    are the wheel's outermost packages (a namespace package's sub-packages among
    them), whose ``__init__.py`` get the block; without them, the top-level ones'."""

    packages: tuple[str, ...] = ()

    @property
    def platform(self) -> str:
        return "win"

    def folder(self, dist: str) -> str:
        return wheel_path(f"{dist}.libs")

    def copy_name(self, name: str, digest: str) -> str:
        base = library_file_name(name, path_allowed=False)
        stem, dot, ext = base.rpartition(".")
        if not dot or not stem:
            stem, ext = base, ""
        return f"{stem}-{content_tag(digest, HASH_LENGTH)}{dot}{ext}"

    def wire(self, edits: BinaryEdits, binary: str, needs: Mapping[str, str]) -> None:
        wheel_path(binary)
        for linked, copy in sorted(needs.items()):
            library_file_name(linked, path_allowed=False)
            name = wheel_path(copy).rpartition("/")[2]
            edits.replace_needed(binary, linked, library_file_name(name, path_allowed=False))

    def name_copy(self, edits: BinaryEdits, copy: str) -> None:
        wheel_path(copy)  # a DLL's name is its file name: nothing to edit

    def rewrite(self, member: str, data: bytes, folder: str) -> bytes | None:
        folder_of, _, base = _installed(member).rpartition("/")
        if self.packages:
            if base != "__init__.py" or folder_of not in self.packages:
                return None
        elif not _TOP_LEVEL_INIT.match(member):
            return None
        patched = loader_patch(member, data, wheel_path(folder))
        return None if patched == data else patched


def loader_patch(member: str, data: bytes, folder: str) -> bytes:
    """``data`` (the ``__init__.py`` at wheel path ``member``) with the block that adds
    ``folder`` to the DLL search path, after its docstring and ``__future__`` imports.

    An earlier block is replaced, so patching twice gives the same file. The file's
    own line endings are kept. Raises :class:`BundleNameError` if it is not valid Python.
    """
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    data = without_loader_patch(data)
    lines = data.splitlines(keepends=True)
    at = _header_end(member, data) or _leading_comments(lines)
    if lines[at - 1 : at] and not lines[at - 1].endswith((b"\n", b"\r")):
        lines[at - 1] += newline
    block = _block(_installed(member), _installed(folder))
    lines.insert(at, block.replace("\n", newline.decode()).encode("ascii"))
    return b"".join(lines)


def without_loader_patch(data: bytes) -> bytes:
    """``data`` without the block :func:`loader_patch` adds (for de-vendoring)."""
    return _LOADER.sub(b"", data)


def _header_end(member: str, data: bytes) -> int:
    """How many lines the docstring and ``from __future__`` imports take."""
    try:
        tree = ast.parse(data, filename=member)
    except (SyntaxError, ValueError, RecursionError) as exc:
        raise BundleNameError(
            f"cannot add the DLL folder to {member}: it is not valid Python ({exc})"
        ) from exc
    end = 0
    for index, node in enumerate(tree.body):
        docstring = (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (docstring or future):
            break
        end = node.end_lineno or node.lineno
    return end


def _leading_comments(lines: list[bytes]) -> int:
    """How many lines at the top are comments or blank: a shebang and an encoding
    declaration must stay on the first two lines, and a BOM at the very start."""
    count = 0
    for line in lines:
        text = line.removeprefix(b"\xef\xbb\xbf").strip()
        if text and not text.startswith(b"#"):
            break
        count += 1
    return count


def _installed(path: str) -> str:
    """Where a wheel path lands in site-packages."""
    return re.sub(r"^[^/]+\.data/(?:purelib|platlib)/", "", path)


def _block(init: str, folder: str) -> str:
    # The path from the package's folder to the DLL folder, as literal path parts.
    parts = relative(folder, init).split("/")
    arguments = ", ".join("os.pardir" if part == ".." else repr(part) for part in parts)
    return (
        f"{LOADER_START}\n"
        "def _condawheel_dll_directory():\n"
        "    import os\n"
        "\n"
        f"    libs = os.path.join(os.path.dirname(os.path.abspath(__file__)), {arguments})\n"
        '    if os.path.isdir(libs) and hasattr(os, "add_dll_directory"):\n'
        "        os.add_dll_directory(libs)\n"
        "\n"
        "\n"
        "_condawheel_dll_directory()\n"
        "del _condawheel_dll_directory\n"
        f"{LOADER_END}\n"
    )
