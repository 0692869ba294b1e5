"""Compile tiny C sources with gcc during the test session.

Binaries under test are built here rather than committed. Each helper writes
its source next to the output and skips the compile when the same source and
arguments were already built into that directory, so a session-scoped
``tmp_path_factory`` directory can be shared by many tests.
"""

from __future__ import annotations

import importlib.machinery
import shutil
import subprocess
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import pytest

__all__ = [
    "compile_executable",
    "compile_python_extension",
    "compile_shared_library",
    "extension_source",
    "requires_gcc",
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
