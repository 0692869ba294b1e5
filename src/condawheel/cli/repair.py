"""`condawheel repair`: a built wheel becomes a conda-tagged wheel using conda's libraries."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from condawheel.cli import output
from condawheel.cli.options import add_standalone_flags

_HELP = """\
Repair a wheel built inside a conda environment, or one that auditwheel, delocate
or delvewheel already repaired, so that it uses the environment's libraries:
vendored copies of libraries a conda package provides are removed, the binaries
that used them are patched to find the provider's copy under the environment's
lib/, each provider is declared as Requires-External (pinned by its run_exports),
and the wheel gets a conda platform tag. Exactly one wheel is written to -w, as
cibuildwheel's repair-wheel-command expects.

With --standalone the wheel is repaired the other way, for Pythons that are not
conda's: the libraries its binaries need beyond the manylinux policy are copied in
from the environment (as auditwheel would, but from their conda packages, with their
licences) and the wheel gets the manylinux tag it satisfies.

examples:
  condawheel repair dist/foo-1.0-cp312-cp312-linux_x86_64.whl -w wheelhouse/
  condawheel repair dist/foo-1.0-cp312-cp312-linux_x86_64.whl -w wheelhouse/ --standalone
  condawheel repair foo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl -w out --with /opt/conda
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "repair",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("wheel", type=Path, metavar="WHEEL")
    parser.add_argument(
        "-w",
        "--wheel-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="where to write the repaired wheel",
    )
    parser.add_argument(
        "--with",
        dest="with_sources",
        action="append",
        type=Path,
        metavar="PREFIX",
        help="conda prefix, channel or packages that "
        "provide libraries (repeatable; default: $CONDA_PREFIX, else the conda environment "
        "of the wheel's CPython in $CONDAWHEEL_PYTHON_ROOT, default /opt/python, as in "
        "condawheel's cibuildwheel image)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail when a library the binaries need is provided by nothing",
    )
    parser.add_argument(
        "--plain-tags", action="store_true", help="standard platform tags instead of conda_* tags"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing wheel of the same name"
    )
    add_standalone_flags(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    # imported when the command runs, not for --help
    from condawheel.cli.report import repair_report
    from condawheel.conversion.repair import RepairOptions, repair

    options = RepairOptions(
        with_sources=tuple(args.with_sources or ()),
        plain_tags=args.plain_tags,
        strict=args.strict,
        overwrite=args.overwrite,
        standalone=args.standalone,
        max_size=args.max_size,
    )
    result = repair(args.wheel, args.wheel_dir, options)
    if args.json:
        output.json_document(repair_report(result))
    else:
        for warning in result.warnings:
            output.warning(args.wheel.name, warning)
        for removed in result.plan.remove:
            output.note(f"removed vendored {removed}")
        for note in result.plan.notes:
            output.note(note)
        output.line(str(result.wheel))
    return 0
