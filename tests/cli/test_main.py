"""The `condawheel` command line: help, version, exit codes, --json, [tool.condawheel]."""

from __future__ import annotations

import importlib.metadata
import json
import platform
from pathlib import Path

import pytest

import condawheel
from builders import CondaPackageBuilder
from clirun import one_line, run_cli
from compilers import compile_shared_library, requires_gcc
from validator import validate_wheel

#: The conda subdir of the machine the tests run on, so that gcc's output matches it.
HOST_SUBDIR = {"x86_64": "linux-64", "aarch64": "linux-aarch64", "ppc64le": "linux-ppc64le"}.get(
    platform.machine(), "linux-64"
)
HOST_ARCH = {"linux-64": "x86_64"}.get(HOST_SUBDIR, platform.machine())


def python_package(out: Path) -> Path:
    """noarch: python, with the .dist-info pip leaves in a build."""
    return (
        CondaPackageBuilder(
            name="demo-py",
            version="2.0",
            build="pyhd8ed1ab_0",
            noarch="python",
            depends=["python >=3.9", "requests >=2"],
            license="MIT",
            about={"summary": "a demo"},
        )
        .add_file("site-packages/demo_py/__init__.py", "ANSWER = 42\n")
        .add_dist_info("demo-py", "2.0", metadata_extra="Requires-Dist: requests>=2")
        .build(out, "conda")
    )


def data_package(out: Path) -> Path:
    """linux-64, a data file only, no Python."""
    return (
        CondaPackageBuilder(name="demo-data", version="1.5", build="h0_1", build_number=1)
        .add_file("share/demo-data/table.txt", "1 2 3\n")
        .build(out, "tar.bz2")
    )


@pytest.fixture(scope="module")
def library_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package with a shared library, so that the platform tag means something."""
    tmp = tmp_path_factory.mktemp("lib")
    lib = compile_shared_library(tmp / "gcc", "demo", "int demo(void) { return 1; }\n")
    return (
        CondaPackageBuilder(name="libdemo", version="3.1", build="h1_0", subdir=HOST_SUBDIR)
        .add_file("lib/libdemo.so", lib.read_bytes(), mode=0o755, file_mode="binary")
        .build(tmp, "conda")
    )


# -- help and version ---------------------------------------------------------


def test_top_level_help(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for command in ("convert", "inspect"):
        assert command in out
    # It teaches: example command lines and the exit codes.
    assert "condawheel convert " in out and "condawheel inspect " in out
    assert "Exit codes" in out or "exit codes" in out
    assert "[tool.condawheel]" in out


@pytest.mark.parametrize("command", ["convert", "inspect"])
def test_command_help(tmp_path: Path, command: str) -> None:
    result = run_cli(tmp_path, command, "--help")
    assert result.returncode == 0, result.stderr
    assert "examples:" in result.stdout
    assert f"condawheel {command} " in result.stdout
    for flag in ("--with", "--plain-tags", "--version", "--json"):
        assert flag in result.stdout
    if command == "convert":
        assert "--overwrite" in result.stdout and "-w" in result.stdout


def test_version(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"condawheel {condawheel.__version__}"
    assert condawheel.__version__ == importlib.metadata.version("condawheel")


# -- usage errors and nothing to do -------------------------------------------


def test_convert_without_arguments_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "convert")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_folder_without_packages_is_nothing_to_do(tmp_path: Path) -> None:
    folder = tmp_path / "empty-channel"
    folder.mkdir()
    (folder / "README.txt").write_text("no packages here\n")
    result = run_cli(tmp_path, "convert", folder, "-w", tmp_path / "out")
    assert result.returncode == 3, result.stderr
    line = one_line(result.stderr)
    assert line.startswith("condawheel:")
    assert "empty-channel" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# -- converting ---------------------------------------------------------------


def test_two_packages_in_one_call(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    packages = [python_package(inputs), data_package(inputs)]
    out = tmp_path / "out"
    result = run_cli(tmp_path, "convert", *packages, "-w", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    wheels = sorted(out.iterdir())
    assert len(wheels) == 2, wheels
    printed = sorted(Path(line) for line in result.stdout.splitlines() if line.strip())
    assert [p.name for p in printed] == [w.name for w in wheels]
    for wheel in wheels:
        validate_wheel(wheel)
    names = {validate_wheel(w).name for w in wheels}
    assert names == {"demo-py", "demo-data"}


def test_two_packages_json(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    packages = [python_package(inputs), data_package(inputs)]
    out = tmp_path / "out"
    result = run_cli(tmp_path, "convert", *packages, "-w", out, "--json")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 2, result.stdout
    objects = [json.loads(line) for line in lines]
    assert [obj["input"] for obj in objects] == [str(p) for p in packages]
    for obj in objects:
        assert isinstance(obj, dict)
        assert {"input", "wheel", "tags", "warnings"} <= set(obj), obj
        assert isinstance(obj["tags"], list) and obj["tags"], obj
        assert isinstance(obj["warnings"], list)
        wheel = Path(obj["wheel"])
        if not wheel.is_absolute():
            wheel = tmp_path / wheel
        assert wheel.is_file(), obj
        assert wheel.parent.resolve() == out.resolve()
        (tag,) = obj["tags"]
        assert wheel.name.endswith(f"-{tag}.whl"), obj
        validate_wheel(wheel)


def test_inspect_json(tmp_path: Path) -> None:
    package = python_package(tmp_path / "in")
    result = run_cli(tmp_path, "inspect", package, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    assert data["tags"]["tag"] == "py3-none-any"
    assert isinstance(data["tags"]["reasons"], list) and data["tags"]["reasons"]
    conda_deps = {d["conda"]: d for d in data["dependencies"]}
    assert any(c.startswith("requests") for c in conda_deps), conda_deps
    assert {"total", "by_scheme"} <= set(data["files"])
    assert data["files"]["total"] >= 1
    assert data["wheel"].startswith("demo_py-2.0-")
    # inspect writes nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_inspect_text(tmp_path: Path) -> None:
    package = data_package(tmp_path / "in")
    result = run_cli(tmp_path, "inspect", package)
    assert result.returncode == 0, result.stderr
    assert "demo_data-1.5-1_h0_1-" in result.stdout
    assert "tags" in result.stdout


def test_a_reinterpreted_version_warns_in_inspect_and_convert(tmp_path: Path) -> None:
    """conda's `2025b` is PEP 440's pre-release 2025b0, which pip skips by default."""
    package = (
        CondaPackageBuilder(name="zonedata", version="2025b", build="h0_0", noarch="generic")
        .add_file("share/zoneinfo/UTC", b"TZif2")
        .build(tmp_path / "in", "conda")
    )
    inspected = run_cli(tmp_path, "inspect", package)
    assert inspected.returncode == 0, inspected.stderr
    warning = "version '2025b' reads as '2025b0' in PEP 440, a pre-release"
    assert f"warning: {warning}" in inspected.stdout
    assert "--version" in inspected.stdout.partition(warning)[2].splitlines()[0]
    converted = run_cli(tmp_path, "convert", package, "-w", tmp_path / "out")
    assert converted.returncode == 0, converted.stderr
    assert f"condawheel: warning: {package.name}: {warning}" in converted.stderr
    again = run_cli(tmp_path, "convert", package, "-w", tmp_path / "out2", "--version", "2025.2")
    assert again.returncode == 0 and "PEP 440" not in again.stderr, again.stderr


def test_a_leading_underscore_dropped_from_the_name_warns(tmp_path: Path) -> None:
    package = (
        CondaPackageBuilder(name="_libgcc_mutex", version="0.1", build="conda_forge")
        .add_file("share/mutex.txt", "x\n")
        .build(tmp_path / "in", "conda")
    )
    result = run_cli(tmp_path, "convert", package, "-w", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert (
        f"condawheel: warning: {package.name}: conda name '_libgcc_mutex' is not a valid "
        "Python distribution name; the wheel is named 'libgcc_mutex'"
    ) in result.stderr
    assert Path(result.stdout.strip()).name.startswith("libgcc_mutex-0.1-")


def test_a_non_python_package_named_like_another_pypi_project(tmp_path: Path) -> None:
    """conda's tzdata is the IANA data; a py3-none-any `tzdata` wheel would satisfy
    `pip install tzdata>=2022.7` without providing PyPI's tzdata (conda's python-tzdata)."""
    package = (
        CondaPackageBuilder(name="tzdata", version="2025b", build="h78e105d_0", noarch="generic")
        .add_file("share/zoneinfo/UTC", b"TZif2")
        .build(tmp_path / "in", "conda")
    )
    result = run_cli(tmp_path, "convert", package, "-w", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    wheel = Path(result.stdout.strip())
    assert wheel.name == "tzdata-2025b0-0_h78e105d_0-py3-none-conda_noarch.whl"
    validate_wheel(tmp_path / wheel if not wheel.is_absolute() else wheel)
    assert (
        "the wheel is named 'tzdata', the PyPI project that conda calls 'python-tzdata'"
    ) in result.stderr
    inspected = run_cli(tmp_path, "inspect", package, "--json")
    data = json.loads(inspected.stdout)
    assert data["tags"]["platform"] == "conda_noarch"
    assert any("python-tzdata" in warning for warning in data["warnings"])


# -- [tool.condawheel] --------------------------------------------------------


def _pyproject(cwd: Path, table: str) -> None:
    (cwd / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.condawheel]\n{table}\n')


def test_config_output_dir(tmp_path: Path) -> None:
    package = data_package(tmp_path / "in")
    _pyproject(tmp_path, 'output-dir = "wheels"')
    result = run_cli(tmp_path, "convert", package)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "wheels").glob("*.whl"))) == 1
    assert not (tmp_path / "dist").exists()

    # A flag beats the config.
    result = run_cli(tmp_path, "convert", package, "-w", tmp_path / "other")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "other").glob("*.whl"))) == 1
    assert len(list((tmp_path / "wheels").glob("*.whl"))) == 1


def test_default_output_dir_is_dist(tmp_path: Path) -> None:
    package = data_package(tmp_path / "in")
    result = run_cli(tmp_path, "convert", package)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "dist").glob("*.whl"))) == 1


@requires_gcc
def test_config_plain_tags(tmp_path: Path, library_package: Path) -> None:
    conda_tag = run_cli(tmp_path, "convert", library_package, "-w", tmp_path / "conda", "--json")
    assert conda_tag.returncode == 0, conda_tag.stderr
    (tag,) = json.loads(conda_tag.stdout)["tags"]
    assert "-conda_linux_" in tag and tag.endswith(f"_{HOST_ARCH}"), tag

    _pyproject(tmp_path, 'output-dir = "wheels"\nplain-tags = true')
    result = run_cli(tmp_path, "convert", library_package, "--json")
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    (tag,) = obj["tags"]
    assert tag.endswith(f"-linux_{HOST_ARCH}"), tag
    wheels = list((tmp_path / "wheels").glob("*.whl"))
    assert [w.name for w in wheels] == [Path(obj["wheel"]).name]
    assert wheels[0].name.endswith(f"-linux_{HOST_ARCH}.whl")
    validate_wheel(wheels[0])

    # inspect reads the same config
    inspected = run_cli(tmp_path, "inspect", library_package, "--json")
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["tags"]["platform"] == f"linux_{HOST_ARCH}"


@requires_gcc
def test_plain_tags_flag_beats_config(tmp_path: Path, library_package: Path) -> None:
    _pyproject(tmp_path, "plain-tags = false")
    result = run_cli(tmp_path, "inspect", library_package, "--json", "--plain-tags")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tags"]["platform"] == f"linux_{HOST_ARCH}"
    result = run_cli(tmp_path, "inspect", library_package, "--json")
    assert json.loads(result.stdout)["tags"]["platform"].startswith("conda_linux_")


@pytest.mark.parametrize(
    ("table", "needle"),
    [("bogus-key = 1", "bogus-key"), ('plain-tags = "yes"', "plain-tags")],
)
@pytest.mark.parametrize("command", ["convert", "inspect"])
def test_bad_config_is_exit_2(tmp_path: Path, command: str, table: str, needle: str) -> None:
    package = data_package(tmp_path / "in")
    _pyproject(tmp_path, table)
    result = run_cli(tmp_path, command, package)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert line.startswith("condawheel: error:")
    assert "pyproject.toml" in line and needle in line
    assert not (tmp_path / "dist").exists()
