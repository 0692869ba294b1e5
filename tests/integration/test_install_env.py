"""`condawheel install` end to end, through the command line:

- into an environment that py-rattler made from a local channel of the packages that
  py-rattler-build builds from ``recipes-sample/`` (libanswer, a C library with
  run_exports, and pyanswer, a CPython extension linking it), with the machine's CPython
  added as the environment's interpreter (the channel holds no conda Python);
- the genuine conda-forge packages of the shared corpus, into fresh environments.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from channel import convert_samples, create_environment, sample_channel
from clirun import run_cli
from compilers import requires_gcc
from condaenv import (
    PY,
    add_python,
    files_only,
    make_env,
    pip_uninstall,
    run_python,
    site_packages,
    snapshot,
)
from condawheel.building.recipes import index_channel
from condawheel.conversion.core import convert

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="linux environments")

ARCH = platform.machine()
OTHER_ARCH = "aarch64" if ARCH == "x86_64" else "x86_64"


def _cli(
    cwd: Path, *args: str | Path, conda_prefix: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(cwd, "install", *args, conda_prefix=conda_prefix)


def _refused(prefix: Path, *args: str | Path) -> str:
    before = snapshot(prefix)
    done = _cli(prefix.parent, "--prefix", prefix, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert snapshot(prefix) == before
    return lines[0]


def _retag(wheel: Path, tag: str, out: Path) -> Path:
    name, version, build = wheel.name.split("-")[:3]
    out.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(wheel, out / f"{name}-{version}-{build}-{tag}.whl"))


# -- a real environment from real packages ------------------------------------


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_channel(tmp_path_factory)


@pytest.fixture(scope="module")
def answer_wheels(channel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return convert_samples(channel, tmp_path_factory.mktemp("answer-dist"))


def _rattler_env(root: Path, channel: Path, specs: list[str]) -> Path:
    return add_python(create_environment(root / "env", channel, specs))


@requires_gcc
def test_extension_uses_the_conda_library(
    channel: Path, answer_wheels: dict[str, Path], tmp_path: Path
) -> None:
    prefix = _rattler_env(tmp_path, channel, ["libanswer"])
    record = json.loads(next((prefix / "conda-meta").glob("libanswer-*.json")).read_text())
    assert "lib/libanswer.so.1" in record["files"]  # written by rattler, not by the test
    before = files_only(snapshot(prefix))

    done = _cli(tmp_path, "--prefix", prefix, "--json", answer_wheels["pyanswer"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (external,) = [c for c in report["checks"] if c["check"] == "requires-external"]
    assert external["ok"]
    assert external["detail"].startswith("libanswer >=1.0,<2.0a0: libanswer 1.0.0 ")

    probe = (
        "import json, pyanswer\n"
        "maps = open('/proc/self/maps').read().split()\n"
        "lib = sorted({p for p in maps if '/libanswer.so' in p})\n"
        "found = [pyanswer.answer(), pyanswer.libanswer_version(), lib, pyanswer.__file__]\n"
        "print(json.dumps(found))\n"
    )
    run = run_python(prefix, probe)
    assert run.returncode == 0, run.stderr
    answer, version, loaded, module = json.loads(run.stdout)
    assert (answer, version) == (42, "1.0.0")
    # the wheel carries no copy: the library is conda's, in the environment
    assert loaded == [str((prefix / "lib" / "libanswer.so.1.0.0").resolve())]
    assert Path(module).is_relative_to(site_packages(prefix))
    assert not list(site_packages(prefix).rglob("libanswer*"))

    removed = pip_uninstall(prefix, ["pyanswer"])
    assert removed.returncode == 0, removed.stderr
    assert files_only(snapshot(prefix)) == before


@requires_gcc
def test_refusals_leave_the_environment_unchanged(
    channel: Path, answer_wheels: dict[str, Path], tmp_path: Path
) -> None:
    empty = _rattler_env(tmp_path / "empty", channel, [])
    line = _refused(empty, answer_wheels["pyanswer"])
    assert "needs conda package libanswer >=1.0,<2.0a0 (not installed)" in line
    assert line.endswith(f'to fix: conda install -p {empty} "libanswer >=1.0,<2.0a0"')

    prefix = _rattler_env(tmp_path / "full", channel, ["libanswer"])
    pyanswer = answer_wheels["pyanswer"]
    python, abi = pyanswer.name.split("-")[-3:-1]
    floor = pyanswer.name.removesuffix(".whl").split("-")[-1]
    other_subdir = _retag(
        pyanswer, f"{python}-{abi}-{floor.replace(ARCH, OTHER_ARCH)}", tmp_path / "a"
    )
    line = _refused(prefix, other_subdir)
    assert f"built for linux-{'aarch64' if OTHER_ARCH == 'aarch64' else '64'}" in line

    other_python = _retag(pyanswer, f"cp39-cp39-{floor}", tmp_path / "b")
    line = _refused(prefix, other_python)
    assert f"built for cp39-cp39, but the environment's Python is cpython {PY}" in line

    # libanswer's own wheel would overwrite the files conda's libanswer installed
    line = _refused(prefix, answer_wheels["libanswer"])
    assert re.search(r"would overwrite \d+ file\(s\) of conda package libanswer 1\.0\.0 ", line)
    assert f"conda remove -p {prefix} --force libanswer" in line

    (prefix / "lib" / f"python{PY}" / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=managed by conda\n"
    )
    line = _refused(prefix, pyanswer)
    assert "is externally managed (PEP 668" in line


@requires_gcc
def test_noarch_entry_point_in_a_rattler_environment(
    channel: Path, answer_wheels: dict[str, Path], tmp_path: Path
) -> None:
    prefix = _rattler_env(tmp_path, channel, [])
    done = _cli(tmp_path, "--prefix", prefix, answer_wheels["hello-noarch"])
    assert done.returncode == 0, done.stderr
    run = subprocess.run(
        [str(prefix / "bin" / "hello-noarch"), "conda"], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout) == (0, "Hello, conda!\n"), run.stderr


# -- the shared corpus ---------------------------------------------------------


def test_corpus_noarch_packages(corpus: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    wheels = [
        convert(corpus / "real" / "noarch" / name, dist).wheel
        for name in ("wheel-0.45.1-pyhd8ed1ab_1.conda", "setuptools-80.9.0-pyhff2d567_0.conda")
    ]
    prefix = make_env(tmp_path)
    done = _cli(tmp_path, "--prefix", prefix, *wheels)
    assert done.returncode == 0, done.stderr
    run = run_python(
        prefix, "import setuptools, wheel; print(wheel.__version__, setuptools.__version__)"
    )
    assert run.stdout.split() == ["0.45.1", "80.9.0"], run.stderr
    console = subprocess.run(
        [str(prefix / "bin" / "wheel"), "version"], capture_output=True, text=True, check=False
    )
    assert "0.45.1" in console.stdout, console.stderr


def test_corpus_linux_library(corpus: Path, tmp_path: Path) -> None:
    if ARCH != "x86_64":
        pytest.skip("the corpus library is linux-64")
    wheel = convert(corpus / "real" / "linux-64" / "libzlib-1.3.1-h4ab18f5_1.conda", tmp_path).wheel
    prefix = make_env(tmp_path)
    line = _refused(prefix, wheel)
    assert "conda install -p" in line and '"libgcc-ng >=12"' in line

    # What it needs is in the corpus too: an environment made from a temporary channel
    # of those packages meets the requirement, with no --no-deps.
    channel = tmp_path / "corpus-channel"
    (channel / "linux-64").mkdir(parents=True)
    for name in (
        "_libgcc_mutex-0.1-conda_forge.tar.bz2",
        "_openmp_mutex-4.5-2_gnu.tar.bz2",
        "libgcc-14.2.0-h77fa898_1.conda",
        "libgcc-ng-14.2.0-h69a702a_1.conda",
        "libgomp-14.2.0-h77fa898_1.conda",
    ):
        shutil.copy(corpus / "real" / "linux-64" / name, channel / "linux-64" / name)
    index_channel(channel)
    prefix = _rattler_env(tmp_path / "with-deps", channel, ["libgcc-ng >=12"])
    done = _cli(tmp_path, "--prefix", prefix, wheel)
    assert done.returncode == 0, done.stderr
    run = run_python(
        prefix,
        "import ctypes, sys; lib = ctypes.CDLL(sys.prefix + '/lib/libz.so.1');"
        "lib.zlibVersion.restype = ctypes.c_char_p; print(lib.zlibVersion().decode())",
    )
    assert run.stdout.strip() == "1.3.1", run.stderr
