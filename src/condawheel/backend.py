"""``condawheel.backend``: a PEP 517 build backend for a project that has a conda recipe.

The project's ``pyproject.toml`` names the backend and points at the recipe::

    [build-system]
    requires = ["condawheel"]
    build-backend = "condawheel.backend"

    [project]
    name = "foo"
    version = "1.0"

    [tool.condawheel]
    recipe = "recipe"            # the folder holding recipe.yaml (or meta.yaml)
    channels = ["conda-forge"]

``build_wheel`` builds the recipe as ``condawheel build`` does and returns the wheel of
the package named like the project. ``build_sdist`` packs the project, recipe included,
with a PKG-INFO made from ``[project]``. Frontends pass settings as config settings
(``pip wheel . -C channel=URL -C variant=KEY=VALUE``): ``channel``, ``variant`` and
``target-platform`` override the table. The build also gets the variant keys ``python``,
``python_version`` (the frontend's X.Y) and ``python_exe`` (its interpreter), so that an
extension is built for the Python that asked for it; recipes that use none ignore them.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from packaging.utils import canonicalize_name, parse_wheel_filename

from condawheel.building.core import build
from condawheel.building.recipes import BuildOptions, build_options
from condawheel.building.sdist import write_sdist
from condawheel.config import load_config
from condawheel.exceptions import CondawheelError, ConfigurationError

__all__ = [
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
]

ConfigSettings = Mapping[str, str | list[str]] | None
P = ParamSpec("P")
R = TypeVar("R")


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    return []  # rattler-build comes with condawheel, which the build already requires


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    return []


def _reported(hook: Callable[P, R]) -> Callable[P, R]:
    """Errors as one line and an exit code, as the CLI gives them, not a traceback
    inside the frontend's output."""

    @functools.wraps(hook)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return hook(*args, **kwargs)
        except CondawheelError as exc:
            tail = getattr(exc, "log_tail", ())
            for line in tail:
                print(f"  | {line}", file=sys.stderr)
            print(f"condawheel: error: {exc}", file=sys.stderr)
            raise SystemExit(exc.exit_code) from None

    return run


@_reported
def build_wheel(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    """Build the recipe and copy the project's wheel into ``wheel_directory``."""
    project = Path.cwd()
    name = canonicalize_name(_pyproject(project)["project"]["name"])
    config = load_config(project)
    if not config["recipe"]:
        raise ConfigurationError(
            f"{project / 'pyproject.toml'}: set recipe in [tool.condawheel] to the folder "
            "holding the conda recipe"
        )
    with tempfile.TemporaryDirectory(prefix="condawheel-backend-") as scratch:
        result = build(
            Path(config["recipe"]),
            Path(scratch),
            _build_options(config, config_settings or {}),
            run_tests=False,
        )
        wheels = [w for w in result.wheels if parse_wheel_filename(w.name)[0] == name]
        if len(wheels) != 1:
            built = ", ".join(w.name for w in result.wheels) or "none"
            raise ConfigurationError(
                f"the recipe built no single wheel named {name} (built: {built}); "
                "[project] name must match the recipe's Python package"
            )
        target = Path(wheel_directory) / wheels[0].name
        shutil.copyfile(wheels[0], target)
    return target.name


@_reported
def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    """Pack the project, its recipe included, as ``{name}-{version}.tar.gz``."""
    project = Path.cwd()
    return write_sdist(project, _pyproject(project), Path(sdist_directory)).name


def _pyproject(project: Path) -> dict[str, Any]:
    pyproject = project / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{pyproject}: cannot read it ({exc})") from None
    table = data.get("project")
    if not isinstance(table, dict) or "name" not in table:
        raise ConfigurationError(f"{pyproject}: a [project] table with a name is required")
    return data


def _build_options(config: Mapping[str, Any], settings: Mapping[str, Any]) -> BuildOptions:
    python = "{}.{}".format(*sys.version_info[:2])
    target = settings.get("target-platform")
    return build_options(
        config,
        channels=_as_list(settings.get("channel")),
        variants=_as_list(settings.get("variant")),
        target_platform=str(target) if target else None,
        base_variants={
            "python": (python,),
            "python_version": (python,),
            "python_exe": (sys.executable,),
        },
    )


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
