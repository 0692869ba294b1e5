"""The `condawheel` command: parse, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from condawheel.cli import output
from condawheel.cli.signals import exit_code, terminate_as_interrupt
from condawheel.exceptions import CondawheelError
from condawheel.version import __version__


class _Command(NamedTuple):
    module: str
    summary: str


# Each command's module (and what it imports: LIEF, rattler, twine...) is imported only
# when that command runs, so that `condawheel --help` and a usage error answer at once.
_COMMANDS = {
    "convert": _Command("cli.convert", "convert conda packages into wheels"),
    "inspect": _Command("cli.inspect", "show what convert would do, and why"),
    "repair": _Command(
        "cli.repair", "make a built wheel use conda's libraries, and tag it for conda"
    ),
    "build": _Command("cli.build", "build a conda recipe and convert its packages into wheels"),
    "install": _Command("cli.install", "install conda-tagged wheels into a conda environment"),
    "index": _Command(
        "cli.index", "write a static simple index (PEP 503/691/658) for a folder of wheels"
    ),
    "mirror": _Command(
        "cli.mirror", "convert every build of a channel into a folder of wheels, with its index"
    ),
    "publish": _Command("cli.publish", "upload wheels to your own package index (never PyPI)"),
    "mapping": _Command("cli.mapping", "cache a published conda-to-PyPI name mapping"),
    "cibuildwheel-config": _Command(
        "cli.cibuildwheel", "print the [tool.cibuildwheel] block for condawheel's container image"
    ),
}

_DESCRIPTION = """\
Turn conda packages into wheels that use conda's shared libraries.

  condawheel inspect pkg.conda          what convert would do, and why
  condawheel convert pkg.conda -w dist  write the wheel
  condawheel repair foo.whl -w out      make a built wheel use conda's libraries
  condawheel build recipe/ -w dist      build a conda recipe, convert what it made
  condawheel convert --spec foo -c conda-forge -w dist   solve, download, convert
  condawheel install foo.whl            install conda-tagged wheels into $CONDA_PREFIX
  condawheel publish dist/ --repository-url URL   upload to your own index
  condawheel index dist/                write a static PEP 503/691 index of the wheels
  condawheel mirror CHANNEL -w out      every build of a channel, as wheels with an index
  condawheel install foo --index-url URL          install by name from an index

Exit codes: 0 done, 1 internal error, 2 bad input or configuration, 3 nothing to do.
Settings may also live in [tool.condawheel] in pyproject.toml; flags override them.
"""


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options that go before or after the command: a command's copy leaves the value
    given before it alone when absent (``SUPPRESS``), and reaches nested actions too."""
    default: Any = False if top else argparse.SUPPRESS
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log what is being done"
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for nested in dict.fromkeys(action.choices.values()):
                _add_global_options(nested, top=False)


class _CommandAdder:
    """What a command module's ``configure_parser`` is given: adds its parser with the
    one-line summary from ``_COMMANDS``, and the global options."""

    def __init__(self, commands: Any) -> None:
        self._commands = commands
        self.added: list[argparse.ArgumentParser] = []

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self._commands.add_parser(
            name, help=_COMMANDS[name].summary, **kwargs
        )
        self.added.append(parser)
        return parser


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command``, only that command's module is imported and
    the others are names with their summaries."""
    parser = argparse.ArgumentParser(
        prog="condawheel",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"condawheel {__version__}")
    _add_global_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    adder = _CommandAdder(commands)
    for name, entry in _COMMANDS.items():
        if command is None or name == command:
            module = importlib.import_module(f"condawheel.{entry.module}")
            module.configure_parser(adder)
        else:
            commands.add_parser(name, help=entry.summary, add_help=False)
    for sub in adder.added:
        _add_global_options(sub, top=False)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``: the first word after the global options (which
    take no value), if it is one."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in _COMMANDS else None
    return None


def _pipe_closed() -> int:
    """The reader of stdout went away (``| head``): end quietly, as other tools do.
    Python would complain again when flushing stdout at exit, so point it at devnull."""
    stdout = sys.__stdout__
    if stdout is not None and sys.stdout is stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout.fileno())
        except (OSError, ValueError):
            pass
    return 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(words) or "")
    try:
        args = parser.parse_args(words)
    except BrokenPipeError:  # --help into a closed pipe
        return _pipe_closed()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format=output.LOG_FORMAT,
    )
    try:
        with terminate_as_interrupt():
            return int(args.execute(args))
    except CondawheelError as exc:
        output.error(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        return _pipe_closed()
    except KeyboardInterrupt as interrupt:  # SIGINT, and SIGTERM or SIGHUP (Terminated)
        output.interrupted(str(interrupt))
        return exit_code(interrupt)
    except Exception as exc:  # a bug: one line, and how to get the rest
        if args.verbose:
            raise
        output.internal_error(exc)
        return 1
