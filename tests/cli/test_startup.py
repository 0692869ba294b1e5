"""The command line as a shell sees it: global options on either side of the command, a
closed pipe, and a start that imports only what the command needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from clirun import one_line, run_cli
from condawheel.cli.main import _COMMANDS, build_parser

#: What a command's own work needs, far too heavy to load for --help or a usage error.
HEAVY = ("lief", "rattler", "rattler_build", "twine", "requests", "rich", "auditwheel")


def _imported_by(*argv: str) -> set[str]:
    """The top-level modules loaded by `condawheel ARGV`, run in a fresh interpreter."""
    return {name.split(".")[0] for name in _modules_loaded_by(*argv)}


def _modules_loaded_by(*argv: str) -> set[str]:
    """Every module loaded by `condawheel ARGV`, run in a fresh interpreter."""
    code = (
        "import sys, json, contextlib, io\n"
        "from condawheel.cli.main import main\n"
        "quiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        "    try:\n"
        f"        main({list(argv)!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout))


def test_top_level_help_imports_no_command() -> None:
    loaded = _imported_by("--help")
    assert "condawheel" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_command_help_and_usage_errors_import_no_heavy_library(command: str) -> None:
    for argv in ((command, "--help"), (command, "--no-such-flag")):
        heavy = _imported_by(*argv) & set(HEAVY)
        assert not heavy, f"condawheel {' '.join(argv)} imports {sorted(heavy)}"


def test_converting_a_package_off_a_terminal_loads_no_display_nor_solver(
    tmp_path: Path,
) -> None:
    """Its first line comes sooner for what it does not load: rich draws only on a
    terminal, the solver and downloader serve only --spec."""
    package = CondaPackageBuilder(name="quick", version="1.0", noarch="generic").build(tmp_path)
    loaded = _modules_loaded_by("convert", str(package), "-w", str(tmp_path / "dist"))
    assert "condawheel.conversion.core" in loaded  # it did convert
    assert not {"rich", "condawheel.conda.fetch", "installer.records"} & loaded


def test_build_parser_still_knows_every_command() -> None:
    parser = build_parser()
    for command in _COMMANDS:
        assert command in parser.format_help()
    args = parser.parse_args(["convert", "pkg.conda", "-w", "out"])
    assert args.command == "convert" and callable(args.execute)


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "build", "recipe", "-w", "dist"],
        ["build", "recipe", "-w", "dist", "-v"],
        ["build", "--verbose", "recipe"],
        ["--verbose", "mapping", "update"],
        ["mapping", "update", "-v"],
        ["inspect", "pkg.conda", "-v", "--json"],
    ],
)
def test_verbose_before_or_after_the_command(argv: list[str]) -> None:
    command = argv[1] if argv[0].startswith("-") else argv[0]
    for parser in (build_parser(), build_parser(command)):
        assert parser.parse_args(argv).verbose is True


@pytest.mark.parametrize("argv", [["build", "recipe"], ["mapping", "update"], ["inspect", "x"]])
def test_verbose_defaults_to_off(argv: list[str]) -> None:
    assert build_parser(argv[0]).parse_args(argv).verbose is False


def test_verbose_after_the_command_runs_it(tmp_path: Path) -> None:
    """`build RECIPE -w dist -v`, as `build --help` suggests: the command's own error,
    not argparse's "unrecognized arguments"."""
    result = run_cli(tmp_path, "build", tmp_path / "missing", "-w", tmp_path / "dist", "-v")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "unrecognized" not in line and "missing" in line, line


def _folder_of_packages(tmp: Path, count: int) -> Path:
    folder = tmp / "pkgs"
    for i in range(count):
        CondaPackageBuilder(name=f"data{i}", version="1.0", build="h0_0").add_file(
            f"share/data{i}/table.txt", "1 2 3\n" * 50
        ).build(folder, "conda")
    return folder


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`condawheel inspect DIR --json | head -1`: the reader is gone before the first
    write; the command stops without a traceback, with the status of SIGPIPE."""
    folder = _folder_of_packages(tmp_path, 3)
    process = subprocess.Popen(
        [sys.executable, "-m", "condawheel", "inspect", str(folder), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # as `head` exits
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, stderr
    assert stderr == ""


def test_inspect_json_into_a_pipe_that_stays_open(tmp_path: Path) -> None:
    folder = _folder_of_packages(tmp_path, 2)
    result = run_cli(tmp_path, "inspect", folder, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
