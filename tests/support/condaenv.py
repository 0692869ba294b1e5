"""Conda-like environments for the install tests, made in a temporary folder.

The environment's interpreter is the machine's CPython, through a venv made without
pip (`python -m venv --without-pip`); `conda-meta/` holds the records the test writes,
as conda would after installing those packages. Independent of ``condawheel``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import rattler

__all__ = [
    "PY",
    "add_python",
    "add_record",
    "env_python",
    "files_only",
    "make_env",
    "pip_uninstall",
    "run_python",
    "site_packages",
    "snapshot",
]

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def _template(cache: Path) -> Path:
    # One venv per cache folder, copied for each test: `venv` itself costs more.
    template = cache / "venv-template"
    if not template.exists():
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(template)],
            check=True,
            capture_output=True,
        )
    return template


def make_env(
    root: Path,
    *,
    records: Iterable[Mapping[str, object]] = (),
    python_record: bool = True,
    cache: Path | None = None,
) -> Path:
    """A conda-like environment at ``root/env``: a venv plus `conda-meta/` with a
    `python` record and ``records`` (their listed files are created too)."""
    prefix = root / "env"
    if cache is not None:
        template = _template(cache)
        # venv's pyvenv.cfg names no path of the venv itself, so a copy works as is
        shutil.copytree(template, prefix, symlinks=True)
    else:
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(prefix)],
            check=True,
            capture_output=True,
        )
    (prefix / "conda-meta").mkdir()
    (prefix / "conda-meta" / "history").write_text("==> 2024-01-01 00:00:00 <==\n")
    if python_record:
        add_record(
            prefix,
            {
                "name": "python",
                "version": ".".join(map(str, sys.version_info[:3])),
                "build": "h0_cpython",
                "build_number": 0,
                "subdir": str(rattler.Subdir.current()),
                "files": [],
            },
        )
    for record in records:
        add_record(prefix, record)
    return prefix


def add_record(prefix: Path, record: Mapping[str, object]) -> None:
    """Write a conda-meta record, creating each file it lists that is not there yet."""
    full = {"build_number": 0, "depends": [], "files": [], **record}
    name = f"{full['name']}-{full['version']}-{full['build']}.json"
    (prefix / "conda-meta" / name).write_text(json.dumps(full, indent=2))
    for relative in full["files"]:  # type: ignore[attr-defined]
        path = prefix / str(relative)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{full['name']} owns this\n")


def env_python(prefix: Path) -> Path:
    return prefix / "bin" / "python"


def site_packages(prefix: Path) -> Path:
    return prefix / "lib" / f"python{PY}" / "site-packages"


def add_python(prefix: Path) -> Path:
    """The machine's CPython as the interpreter of ``prefix`` (a venv made without pip),
    for an environment that py-rattler made from a channel holding no conda Python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(prefix)],
        check=True,
        capture_output=True,
    )
    return prefix


def run_python(prefix: Path, code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by the environment's interpreter, with no LD_LIBRARY_PATH or
    PYTHONPATH from the test run: what it loads, it finds by itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "PYTHONPATH")}
    return subprocess.run(
        [str(env_python(prefix)), "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
        cwd=prefix.parent,
    )


def snapshot(prefix: Path, *, directories: bool = True) -> dict[str, str]:
    """Every entry under ``prefix``: files by hash and mode, links by target, folders by mode."""
    found: dict[str, str] = {}
    for top, dirs, files in os.walk(prefix):
        for name in [*dirs, *files]:
            path = Path(top) / name
            relative = path.relative_to(prefix).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[relative] = f"link -> {path.readlink()}"
            elif stat.S_ISDIR(info.st_mode):
                if directories:
                    found[relative] = f"dir {oct(info.st_mode & 0o7777)}"
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found[relative] = f"file {oct(info.st_mode & 0o7777)} {digest}"
    return found


def files_only(tree: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in tree.items() if not v.startswith("dir ")}


def pip_uninstall(prefix: Path, names: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """pip (the test venv's own) removing distributions from the environment."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env_python(prefix)),
            "--disable-pip-version-check",
            "uninstall",
            "-y",
            *names,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
