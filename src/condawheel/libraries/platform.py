"""Libraries the operating system provides, which a wheel may need without declaring.

conda packages the C/C++ runtimes themselves (``libstdcxx``, ``libcxx``,
``vc14_runtime``, ``ucrt``), so where a known conda package ships a library the
caller asks :mod:`condawheel.libraries.providers` first; this module is the last word only
for what no conda package provides.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path

#: glibc's dynamic loaders: the interpreter of every executable, never in a policy.
_LINUX_LOADERS = frozenset(
    {"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld64.so.2", "ld-linux.so.2"}
)
_MACOS_SYSTEM_PREFIXES = ("/usr/lib/", "/System/Library/")
# fmt: off
_WINDOWS_SYSTEM_NAMES = (
    "kernel32", "user32", "advapi32", "ws2_32", "ole32", "oleaut32", "shell32", "gdi32",
    "msvcrt", "ntdll", "bcrypt", "crypt32", "secur32", "shlwapi", "version", "winmm",
    "rpcrt4", "comdlg32", "comctl32", "dbghelp", "iphlpapi", "psapi", "setupapi", "userenv",
    "wldap32", "normaliz",
)
# fmt: on
_WINDOWS_SYSTEM_DLLS = frozenset(f"{name}.dll" for name in _WINDOWS_SYSTEM_NAMES)
_WINDOWS_API_SETS = re.compile(r"^(api|ext)-ms-win-[a-z0-9._-]+\.dll$")
# The interpreter running the extension provides libpython; no wheel declares it.
_INTERPRETER = re.compile(
    r"^(?:python3\d*t?\.dll|libpython3\.\d+t?\.so(?:\.[0-9.]+)?|libpython3\.\d+t?\.dylib)$",
    re.IGNORECASE,
)

MANYLINUX_REASON = "manylinux policy (auditwheel)"
MACOS_REASON = "macOS system library"
WINDOWS_REASON = "Windows system DLL"
INTERPRETER_REASON = "the Python interpreter"
STANDALONE_WINDOWS_REASON = "the Universal CRT, or the Visual C++ runtime CPython ships"
# What a wheel for python.org's CPython may also leave to the target, as delvewheel
# does: the Universal CRT is part of Windows (10 on; an update before), and CPython
# for Windows ships vcruntime140.dll (and, on 64-bit, vcruntime140_1.dll) beside
# python.exe. A conda environment has them from conda packages instead.
_WINDOWS_STANDALONE_DLLS = frozenset({"ucrtbase.dll", "vcruntime140.dll", "vcruntime140_1.dll"})


def platform_provides(name: str, platform: str) -> str | None:
    """Why the system provides library ``name`` on ``platform``, or ``None``.

    ``platform`` is ``"linux"``, ``"osx"`` or ``"win"``; ``name`` is a DT_NEEDED
    entry, a Mach-O install name or a DLL name.
    """
    if is_interpreter_library(name):
        return INTERPRETER_REASON
    if platform == "linux":
        if name in _LINUX_LOADERS or name in manylinux_whitelist():
            return MANYLINUX_REASON
    elif platform == "osx":
        if name.startswith(_MACOS_SYSTEM_PREFIXES):
            return MACOS_REASON
    elif platform == "win":
        lowered = name.replace("\\", "/").rpartition("/")[2].lower()
        if lowered in _WINDOWS_SYSTEM_DLLS or _WINDOWS_API_SETS.match(lowered):
            return WINDOWS_REASON
    else:
        raise ValueError(f"unknown platform {platform!r}; expected linux, osx or win")
    return None


def standalone_provides(name: str, platform: str) -> str | None:
    """Why the target of a standalone wheel (a CPython that is not conda's) provides
    library ``name``: what :func:`platform_provides` says, and on Windows the Universal
    CRT and CPython's own Visual C++ runtime, which a standalone wheel does not bundle."""
    reason = platform_provides(name, platform)
    if reason is None and platform == "win":
        lowered = name.replace("\\", "/").rpartition("/")[2].lower()
        if lowered in _WINDOWS_STANDALONE_DLLS:
            return STANDALONE_WINDOWS_REASON
    return reason


def is_interpreter_library(name: str) -> bool:
    """Whether ``name`` is libpython / pythonXY.dll, which the running interpreter
    provides on every platform (and which the ``python`` package must not be
    declared for)."""
    return bool(_INTERPRETER.match(name.replace("\\", "/").rpartition("/")[2]))


@cache
def manylinux_whitelist() -> frozenset[str]:
    """``lib_whitelist`` of auditwheel's oldest manylinux policy: the libraries every
    manylinux system has (the newer policies only add to it)."""
    # Found without importing auditwheel.policy, whose import loads most of auditwheel.
    spec = importlib.util.find_spec("auditwheel.policy")
    assert spec is not None and spec.submodule_search_locations is not None
    folder = Path(next(iter(spec.submodule_search_locations)))
    text = (folder / "manylinux-policy.json").read_text(encoding="utf-8")
    policies = [p for p in json.loads(text) if p.get("name") != "linux"]
    # auditwheel ranks policies by priority: the oldest, most portable, is highest.
    oldest = max(policies, key=lambda policy: int(policy["priority"]))
    return frozenset(str(lib) for lib in oldest["lib_whitelist"])
