"""Script shebangs: conda's prefix interpreter becomes the wheel's `#!python`."""

from __future__ import annotations

import re

# `#!/opt/anaconda1anaconda2anaconda3/bin/python3.12 -E`, `#!/usr/bin/env python3`
_SHEBANG = re.compile(
    rb"^#![ \t]*(\S*/)?(?:env[ \t]+)?(python(?:w)?[0-9.]*t?)(?:[ \t][^\r\n]*)?\r?\n"
)
# conda-build's trampoline for prefixes too long for a shebang line.
_TRAMPOLINE = re.compile(
    rb"^#!/bin/sh\r?\n'''exec' \"?\S*/(python(?:w)?[0-9.]*t?)\"? \"\$0\" \"\$@\"\s*\r?\n' '''\r?\n"
)


def rewrite_shebang(data: bytes, placeholder: str | None) -> bytes | None:
    """The script with a `#!python` shebang, or None when it is not a Python script
    of the conda prefix (or of `/usr/bin/env`), which are left as they are."""
    found = _TRAMPOLINE.match(data)
    if found:
        return b"#!" + _kind(found.group(1)) + b"\n" + data[found.end() :]
    found = _SHEBANG.match(data)
    if not found:
        return None
    directory = (found.group(1) or b"").decode("utf-8", "replace")
    from_prefix = bool(placeholder) and directory.startswith(placeholder or "\0")
    from_env = re.search(rb"/env[ \t]+python", found.group(0)) is not None
    if not (from_prefix or from_env):
        return None
    return b"#!" + _kind(found.group(2)) + b"\n" + data[found.end() :]


def _kind(interpreter: bytes) -> bytes:
    # installer maps `#!pythonw` to the GUI interpreter on Windows.
    return b"pythonw" if interpreter.startswith(b"pythonw") else b"python"
