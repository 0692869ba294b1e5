"""Build a ``meta.yaml`` with conda-build, where it is installed.

conda-build is a conda package, not a PyPI one, so condawheel never installs it: it runs
the ``conda-build`` on PATH, into a scratch output folder and build root, and reads
which packages appeared there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from condawheel.building.recipes import BuildFailedError, BuildOptions, BuiltPackages, Recipe
from condawheel.conda.source import is_conda_package

LogCallback = Callable[[str], None]

LOG_TAIL = 25


def conda_build_executable() -> str:
    found = shutil.which("conda-build")
    if found is None:
        raise BuildFailedError(
            "meta.yaml recipes are built with conda-build, which is not on PATH; "
            "install it (conda install -n base conda-build) or write a recipe.yaml for "
            "rattler-build"
        )
    return found


@contextmanager
def build_with_conda_build(
    recipe: Recipe,
    channel: Path,
    options: BuildOptions,
    *,
    on_log: LogCallback,
    run_tests: bool = True,
) -> Iterator[BuiltPackages]:
    """Build ``recipe`` and yield its packages, still in the scratch output folder."""
    executable = conda_build_executable()
    scratch = Path(tempfile.mkdtemp(prefix="condawheel-build-"))
    output = scratch / "output"
    command = [
        executable,
        str(recipe.directory),
        "--output-folder",
        str(output),
        "--croot",
        str(scratch / "croot"),
        "--no-anaconda-upload",
    ]
    channels = ([channel.resolve().as_uri()] if (channel / "noarch").is_dir() else []) + list(
        options.channels
    )
    for url in channels:
        command += ["-c", url]
    for path in options.variant_files:
        command += ["-m", str(path)]
    variants = {key: list(values) for key, values in options.variants.items()}
    if options.target_platform:
        variants["target_platform"] = [options.target_platform]
    if variants:
        command += ["--variants", json.dumps(variants, sort_keys=True)]  # JSON is YAML
    if not run_tests:
        command.append("--no-test")
    try:
        _run(command, recipe, on_log)
        packages = tuple(
            sorted(p for p in output.glob("*/*") if p.is_file() and is_conda_package(p))
        )
        if not packages:
            raise BuildFailedError(f"{recipe.path}: conda-build finished but wrote no package")
        hosts = tuple(
            sorted(p for p in (scratch / "croot").glob("*/_h_env*") if (p / "conda-meta").is_dir())
        )
        yield BuiltPackages(packages=packages, host_prefixes=hosts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(command: list[str], recipe: Recipe, on_log: LogCallback) -> None:
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            tail.append(line)
            on_log(line)
    if process.returncode != 0:
        last = next((line for line in reversed(tail) if line.strip()), "no output")
        raise BuildFailedError(
            f"{recipe.path} failed to build (conda-build exit {process.returncode}): "
            f"{last.strip()}",
            tail,
        )
