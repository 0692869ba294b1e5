"""`condawheel convert`: conda packages to wheels."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from condawheel.convert import ConvertResult, convert
from condawheel.exceptions import CondawheelError
from condawheel.known import KnownPackages
from condawheel.options import add_convert_arguments, convert_options, expand_packages, output_dir
from condawheel.progress import progress_bar

_HELP = """\
Convert conda packages into wheels.

site-packages goes to the wheel root, bin/ (Scripts/) to scripts, and everything
else under the prefix (lib/, include/, share/, Library/) to .data/data, so that
it lands where conda would put it. Dependencies become Requires-Dist (Python)
or Requires-External (native), and binaries give a conda_* platform tag so that
only condawheel installs the wheel, into a conda environment.

examples:
  condawheel convert foo-1.2-py312h1234_0.conda -w dist/
  condawheel convert pkgs/ -w dist/ --with $CONDA_PREFIX --json
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "convert",
        help="convert conda packages into wheels",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-w",
        "--wheel-dir",
        metavar="DIR",
        help="where to write wheels (default: dist, or output-dir in the config)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        default=None,
        help="replace an existing wheel of the same name",
    )
    add_convert_arguments(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    options = convert_options(args)
    out_dir = output_dir(args)
    packages = expand_packages(args.packages)
    known = KnownPackages.load(options.with_sources)
    exit_code = 0
    for package in packages:
        try:
            total = package.stat().st_size if package.is_file() else 0
            with progress_bar(package.name, total, enabled=not args.json) as advance:
                result = convert(package, out_dir, options, known=known, on_progress=advance)
        except CondawheelError as exc:
            exit_code = max(exit_code, exc.exit_code)
            if args.json:
                _emit({"input": str(package), "error": str(exc), "exit_code": exc.exit_code})
            else:
                print(f"condawheel: error: {exc}", file=sys.stderr)
            continue
        if args.json:
            _emit(result_json(result))
        else:
            for warning in result.warnings:
                print(f"condawheel: warning: {package.name}: {warning}", file=sys.stderr)
            print(result.wheel)
    return exit_code


def result_json(result: ConvertResult) -> dict[str, Any]:
    return {
        "input": str(result.input),
        "wheel": str(result.wheel),
        "tags": [result.tags.tag],
        "warnings": list(result.warnings),
    }


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, sort_keys=True), flush=True)
