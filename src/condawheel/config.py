"""`[tool.condawheel]` in pyproject.toml, over the defaults shipped with condawheel."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from condawheel.exceptions import ConfigurationError


def defaults() -> dict[str, Any]:
    text = resources.files("condawheel.resources").joinpath("defaults.toml").read_text()
    return dict(tomllib.loads(text)["tool"]["condawheel"])


def load_config(project_dir: Path) -> dict[str, Any]:
    """Defaults, updated with the table from ``project_dir/pyproject.toml`` if any.

    Relative paths in the table are relative to the project directory.
    """
    config = defaults()
    pyproject = project_dir / "pyproject.toml"
    if not pyproject.is_file():
        return config
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # TOMLDecodeError, UnicodeDecodeError
        raise ConfigurationError(f"{pyproject}: cannot read it ({exc})") from None
    table = data.get("tool", {}).get("condawheel", {})
    unknown = sorted(set(table) - set(config))
    if unknown:
        raise ConfigurationError(
            f"{pyproject}: unknown key(s) in [tool.condawheel]: {', '.join(unknown)}; "
            f"known keys are {', '.join(sorted(config))}"
        )
    for key, value in table.items():
        if type(value) is not type(config[key]):
            raise ConfigurationError(
                f"{pyproject}: [tool.condawheel] {key} must be a "
                f"{type(config[key]).__name__}, not {type(value).__name__}"
            )
    if not all(isinstance(item, str) for item in table.get("with", [])):
        raise ConfigurationError(f"{pyproject}: [tool.condawheel] with must be a list of paths")
    if not all(isinstance(item, str) for item in table.get("channels", [])):
        raise ConfigurationError(
            f"{pyproject}: [tool.condawheel] channels must be a list of strings"
        )
    for key, value in table.get("variants", {}).items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int | float) for v in values):
            raise ConfigurationError(
                f"{pyproject}: [tool.condawheel] variants.{key} must be a string or a list "
                "of strings"
            )
    config.update(table)
    for key in ("output-dir", "name-map", "recipe"):
        if config[key] and key in table:
            config[key] = str(project_dir / config[key])
    if "with" in table:
        config["with"] = [str(project_dir / p) for p in config["with"]]
    return config
