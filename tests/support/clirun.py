"""Running the `condawheel` command as a user would: a subprocess, in a given folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_cli(
    cwd: Path,
    *args: str | Path,
    conda_prefix: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``condawheel ARGS...``, seeing no active conda environment but ``conda_prefix``;
    ``env`` adds to (or overrides) the environment."""
    environ = {
        k: v for k, v in os.environ.items() if k not in ("CONDA_PREFIX", "SOURCE_DATE_EPOCH")
    }
    if conda_prefix is not None:
        environ["CONDA_PREFIX"] = str(conda_prefix)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "condawheel", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environ,
        check=False,
    )


def one_line(stderr: str) -> str:
    """The single line a failed command prints; fails on a traceback or more lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr:\n{stderr}"
    return lines[0]
