"""The `condawheel` command: parse, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from condawheel import (
    __version__,
    main_build,
    main_cibuildwheel,
    main_convert,
    main_index,
    main_inspect,
    main_install,
    main_mapping,
    main_publish,
    main_repair,
)
from condawheel.exceptions import CondawheelError

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
  condawheel install foo --index-url URL          install by name from an index

Exit codes: 0 done, 1 internal error, 2 bad input or configuration, 3 nothing to do.
Settings may also live in [tool.condawheel] in pyproject.toml; flags override them.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="condawheel",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"condawheel {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (
        main_convert,
        main_inspect,
        main_repair,
        main_build,
        main_install,
        main_index,
        main_publish,
        main_mapping,
        main_cibuildwheel,
    ):
        module.configure_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="condawheel: %(message)s",
    )
    try:
        return int(args.execute(args))
    except CondawheelError as exc:
        print(f"condawheel: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("condawheel: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, and how to get the rest
        if args.verbose:
            raise
        print(
            f"condawheel: internal error: {type(exc).__name__}: {exc} "
            "(rerun with -v for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1
