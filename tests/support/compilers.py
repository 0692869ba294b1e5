"""Compile tiny C sources during the test session: ELF with gcc, Mach-O and PE with zig.

Binaries under test are built here rather than committed. The gcc helpers write
their source next to the output and skip the compile when the same source and
arguments were already built into that directory, so a session-scoped
``tmp_path_factory`` directory can be shared by many tests.

Mach-O and PE files come from the ``ziglang`` package (the test extra): ``zig cc``
cross-compiles for macOS with its own Mach-O linker and libSystem stubs, so no SDK is
needed, and ``zig lld-link`` links Windows DLLs. Nothing but pip is needed to get it.
"""

from __future__ import annotations

import importlib.machinery
import shutil
import struct
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import pytest

__all__ = [
    "MACOS_ARM64",
    "MACOS_X86_64",
    "compile_executable",
    "compile_macho",
    "compile_pe",
    "compile_python_extension",
    "compile_shared_library",
    "extension_source",
    "requires_gcc",
    "universal",
]

requires_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


def _gcc(tmp: Path, output: str, source: str, args: Sequence[str]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / output
    src = tmp / f"{output}.c"
    # Arguments after the source file, so that -L/-l in extra args resolve symbols.
    command = ["gcc", "-O1", "-o", str(out), str(src), *args]
    stamp = tmp / f"{output}.cmd"
    fingerprint = "\0".join([source, *command])
    if out.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return out
    src.write_text(source)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"gcc failed: {' '.join(command)}\n{result.stderr}")
    stamp.write_text(fingerprint)
    return out


def compile_shared_library(
    tmp: Path,
    name: str,
    source: str,
    soname: str | None = None,
    extra_args: Sequence[str] = (),
) -> Path:
    """Build a shared library into ``tmp``.

    ``name`` is the output file name when it contains ".so" (``libfoo.so.1.2``),
    else the library name (``foo`` -> ``libfoo.so``).
    """
    output = name if ".so" in name else f"lib{name}.so"
    args = ["-shared", "-fPIC"]
    if soname is not None:
        args.append(f"-Wl,-soname,{soname}")
    return _gcc(tmp, output, source, [*args, *extra_args])


def compile_python_extension(
    tmp: Path, module_name: str, source: str, extra_args: Sequence[str] = ()
) -> Path:
    """Build a CPython extension for the running interpreter (``mod.cpython-3XY-*.so``).

    ``source`` must define ``PyInit_<module_name>``.
    """
    output = module_name + importlib.machinery.EXTENSION_SUFFIXES[0]
    include = sysconfig.get_paths()["include"]
    return _gcc(tmp, output, source, ["-shared", "-fPIC", f"-I{include}", *extra_args])


def compile_executable(tmp: Path, name: str, source: str, extra_args: Sequence[str] = ()) -> Path:
    """Build an executable ``tmp/name`` (e.g. ``extra_args=["-L", dir, "-lfoo"]``)."""
    return _gcc(tmp, name, source, list(extra_args))


def extension_source(module_name: str, value: int = 42) -> str:
    """C source of a minimal extension whose ``answer()`` returns ``value``."""
    return f"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) {{ return PyLong_FromLong({value}); }}
static PyMethodDef methods[] = {{{{"answer", answer, METH_NOARGS, NULL}}, {{NULL, NULL, 0, NULL}}}};
static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "{module_name}", NULL, -1, methods}};
PyMODINIT_FUNC PyInit_{module_name}(void) {{ return PyModule_Create(&module); }}
"""


# --- Mach-O and PE, with zig ---------------------------------------------------------

#: zig targets, with the deployment floors that conda-forge builds for.
MACOS_ARM64 = "aarch64-macos.11.0"
MACOS_X86_64 = "x86_64-macos.10.13"
_ZIG = (sys.executable, "-m", "ziglang")
#: lipo's alignment of each architecture's slice: its page size.
_SLICE_ALIGN = {0x0100000C: 14, 0x01000007: 12}  # CPU_TYPE_ARM64, CPU_TYPE_X86_64


def _zig(tool: str, args: Sequence[str]) -> None:
    command = [*_ZIG, tool, *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"zig {tool} failed: {' '.join(command)}\n{result.stderr}")


def _source(out: Path, source: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_name(out.name + ".c")
    src.write_text(source)
    return src


def compile_macho(
    out: Path, source: str, target: str, *, shared: bool = True, args: Sequence[str] = ()
) -> Path:
    """Link ``source`` for ``target`` (``MACOS_ARM64``, ``MACOS_X86_64``) with zig's
    Mach-O linker. Like Apple's, it links libSystem and signs arm64 output ad hoc;
    ``args`` are ``zig cc``'s (``-Wl,-install_name,...``, libraries to link)."""
    kind = ["-shared"] if shared else []
    _zig("cc", ["-target", target, "-O1", *kind, "-o", str(out), str(_source(out, source)), *args])
    return out


def compile_pe(out: Path, source: str, args: Sequence[str] = ()) -> Path:
    """A DLL without C runtime or entry point, so that it imports only what ``args``
    give: import libraries and lld-link flags (``/delayload:NAME.dll``). Its own import
    library is written beside it, ``out`` with the suffix ``.lib``."""
    obj = out.with_suffix(".obj")
    _zig(
        "cc",
        ["-target", "x86_64-windows-msvc", "-O1", "-c", "-o", str(obj), str(_source(out, source))],
    )
    implib = out.with_suffix(".lib")
    _zig(
        "lld-link",
        ["/dll", "/noentry", "/nodefaultlib", f"/out:{out}", f"/implib:{implib}", str(obj), *args],
    )
    return out


def universal(out: Path, *slices: Path) -> Path:
    """A universal file of thin Mach-O ``slices``, laid out as lipo lays it out: each
    slice aligned to its architecture's page, in order of alignment."""
    images = []
    for path in slices:
        data = path.read_bytes()
        cputype, cpusubtype = struct.unpack_from("<ii", data, 4)
        images.append((_SLICE_ALIGN[cputype], cputype, cpusubtype, data))
    images.sort(key=lambda image: image[0])
    header = bytearray(struct.pack(">II", 0xCAFEBABE, len(images)))
    body = bytearray()
    offset = 8 + 20 * len(images)
    for align, cputype, cpusubtype, data in images:
        start = -(-offset // (1 << align)) << align
        body += bytes(start - offset) + data
        header += struct.pack(">iiIII", cputype, cpusubtype, start, len(data), align)
        offset = start + len(data)
    out.write_bytes(bytes(header) + bytes(body))
    return out
