"""The names of bundled copies: how the repair tools name theirs (so de-vendoring
recognises them), and checks of the names the bundle layouts are given, every one of
which may be hostile."""

from __future__ import annotations

import posixpath
import re

from condawheel.exceptions import BadInputError

__all__ = [
    "AUDITWHEEL_COPY",
    "DELVEWHEEL_COPY",
    "DYLIB_COPY",
    "BundleNameError",
    "content_tag",
    "library_file_name",
    "relative",
    "wheel_path",
]


# auditwheel splits the file name at its first dot: libz.so.1.3.1 -> libz-1a2b3c4d.so.1.3.1.
AUDITWHEEL_COPY = re.compile(r"^(?P<stem>[^./]+)-[0-9a-f]{8}(?P<ext>\.so(?:\.[^/]*)?)$")
# delvewheel keeps the case and appends 32 hex of SHA-256 to the stem.
DELVEWHEEL_COPY = re.compile(r"^(?P<stem>[^/]+)-[0-9a-f]{32}(?P<ext>\.dll)$", re.IGNORECASE)
# condawheel's standalone macOS wheels name .dylibs copies as auditwheel does its own.
DYLIB_COPY = re.compile(r"^(?P<stem>[^./]+)-[0-9a-f]{8}(?P<ext>\.(?:[^/]*\.)?dylib)$")


class BundleNameError(BadInputError):
    """A library name or wheel path that cannot be bundled safely; the message says
    which one and why."""


# Control characters, and what Windows does not allow in a file name.
_BAD_CHARACTERS = re.compile(r'[\x00-\x1f\x7f\\:*?"<>|]')


def library_file_name(name: str, *, path_allowed: bool) -> str:
    """The file name of library ``name`` as a binary links it: the last part of a
    Mach-O install name (``path_allowed``), else the whole name. Raises
    :class:`BundleNameError` for a name that is not a plain ASCII file name."""
    base = name.rpartition("/")[2] if path_allowed else name
    if not path_allowed and "/" in name:
        problem = "has a '/'"
    elif base in ("", ".", ".."):
        problem = "has no file name"
    elif not base.isascii() or _BAD_CHARACTERS.search(base):
        problem = "is not a plain ASCII file name"
    else:
        return base
    raise BundleNameError(f"cannot bundle library {name!r}: its name {problem}")


def wheel_path(path: str) -> str:
    """``path`` if it is a relative, ``/``-separated wheel path without ``.``/``..``
    parts, else :class:`BundleNameError`."""
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise BundleNameError(f"not a path inside a wheel: {path!r}")
    if _BAD_CHARACTERS.search(path):
        raise BundleNameError(f"not a path inside a wheel (bad character): {path!r}")
    return path


def content_tag(digest: str, length: int) -> str:
    """The first ``length`` hex digits of a sha256 ``digest``, lower-case."""
    if not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise BundleNameError(f"not a sha256 hex digest: {digest!r}")
    return digest[:length].lower()


def relative(path: str, start_file: str) -> str:
    """``path`` relative to the folder of ``start_file`` (both wheel paths)."""
    return posixpath.relpath(path, posixpath.dirname(start_file) or ".")
