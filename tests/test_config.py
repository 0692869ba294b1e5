"""`[tool.condawheel]` in pyproject.toml over the shipped defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from condawheel.config import defaults, load_config
from condawheel.exceptions import ConfigurationError

DEFAULTS = {
    "output-dir": "dist",
    "with": [],
    "name-map": "",
    "plain-tags": False,
    "overwrite": False,
    "recipe": "",
    "channels": [],
    "target-platform": "",
    "variants": {},
    "repository-url": "",
    "index-url": "",
}


def write_pyproject(project: Path, text: str) -> Path:
    path = project / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    assert defaults() == DEFAULTS


def test_no_pyproject_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path) == DEFAULTS


def test_pyproject_without_the_table_gives_the_defaults(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\n')
    assert load_config(tmp_path) == DEFAULTS


def test_table_is_merged_over_the_defaults(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.condawheel]\nplain-tags = true\noverwrite = true\n")
    assert load_config(tmp_path) == {**DEFAULTS, "plain-tags": True, "overwrite": True}


def test_relative_paths_are_resolved_against_the_project(tmp_path: Path) -> None:
    absolute = tmp_path.parent / "elsewhere" / "env"
    write_pyproject(
        tmp_path,
        "[tool.condawheel]\n"
        'output-dir = "wheels"\n'
        'name-map = "conf/names.json"\n'
        f'with = ["envs/dev", "{absolute.as_posix()}"]\n',
    )
    config = load_config(tmp_path)
    assert config["output-dir"] == str(tmp_path / "wheels")
    assert config["name-map"] == str(tmp_path / "conf" / "names.json")
    assert config["with"] == [str(tmp_path / "envs" / "dev"), str(absolute)]


def test_absolute_paths_stay(tmp_path: Path) -> None:
    out = tmp_path.parent / "out"
    write_pyproject(tmp_path, f'[tool.condawheel]\noutput-dir = "{out.as_posix()}"\n')
    assert load_config(tmp_path)["output-dir"] == str(out)


def test_empty_name_map_stays_empty(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.condawheel]\nname-map = ""\n')
    assert load_config(tmp_path)["name-map"] == ""


def test_unknown_key(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, '[tool.condawheel]\nouput-dir = "wheels"\n')
    with pytest.raises(ConfigurationError) as raised:
        load_config(tmp_path)
    assert str(path) in str(raised.value)
    assert "ouput-dir" in str(raised.value)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('plain-tags = "yes"', "plain-tags"),
        ("overwrite = 1", "overwrite"),
        ('with = "envs/dev"', "with"),
        ("output-dir = 3", "output-dir"),
        ("name-map = false", "name-map"),
        ("output-dir = []", "output-dir"),
        # Each entry of `with` is a path.
        ("with = [1, 2]", "with"),
    ],
)
def test_wrong_type(tmp_path: Path, line: str, key: str) -> None:
    path = write_pyproject(tmp_path, f"[tool.condawheel]\n{line}\n")
    with pytest.raises(ConfigurationError) as raised:
        load_config(tmp_path)
    assert str(path) in str(raised.value)
    assert key in str(raised.value)


def test_invalid_toml(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, "[tool.condawheel\nplain-tags = true\n")
    with pytest.raises(ConfigurationError) as raised:
        load_config(tmp_path)
    assert str(path) in str(raised.value)


def test_pyproject_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes('[project]\ndescription = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigurationError) as raised:
        load_config(tmp_path)
    assert str(path) in str(raised.value)


def test_build_settings_are_read_and_the_recipe_is_relative_to_the_project(
    tmp_path: Path,
) -> None:
    write_pyproject(
        tmp_path,
        "[tool.condawheel]\n"
        'recipe = "conda/recipe"\n'
        'channels = ["conda-forge", "file:///srv/channel"]\n'
        'target-platform = "linux-aarch64"\n'
        'variants = { python = ["3.12", "3.13"], numpy = "2" }\n',
    )
    config = load_config(tmp_path)
    assert config["recipe"] == str(tmp_path / "conda" / "recipe")
    assert config["channels"] == ["conda-forge", "file:///srv/channel"]
    assert config["target-platform"] == "linux-aarch64"
    assert config["variants"] == {"python": ["3.12", "3.13"], "numpy": "2"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("channels = [1]", "channels must be a list of strings"),
        ("variants = { python = { x = 1 } }", "variants.python must be a string or a list"),
    ],
)
def test_malformed_build_settings_are_configuration_errors(
    tmp_path: Path, line: str, message: str
) -> None:
    write_pyproject(tmp_path, f"[tool.condawheel]\n{line}\n")
    with pytest.raises(ConfigurationError, match=message):
        load_config(tmp_path)
