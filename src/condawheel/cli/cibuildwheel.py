"""`condawheel cibuildwheel-config`: print the cibuildwheel settings for docker/'s image."""

from __future__ import annotations

import argparse
from typing import Any

from condawheel.building.cibuildwheel import ARCHITECTURES, PYTHONS, cibuildwheel_config
from condawheel.cli import output

_HELP = f"""\
Print the [tool.cibuildwheel.linux] block that builds conda-tagged wheels in the
container image built from condawheel's docker/ directory: the image, CPython
builds only, `condawheel repair` as the repair-wheel-command, and cibuildwheel's
tests skipped (pip cannot install a conda-tagged wheel in cibuildwheel's test
virtualenv). Paste it into pyproject.toml.

Subdirs: {", ".join(ARCHITECTURES)} (macOS and Windows builds run without a container).
Pythons in the image: {", ".join(PYTHONS)}.

examples:
  condawheel cibuildwheel-config --subdir linux-64 --image ghcr.io/me/condawheel-linux-64:1
  condawheel cibuildwheel-config --subdir linux-aarch64 --abi3 3.10
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "cibuildwheel-config",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--subdir", required=True, metavar="SUBDIR", help="linux-64 or linux-aarch64"
    )
    parser.add_argument(
        "--image",
        metavar="IMAGE",
        help="the image you built from docker/ (default: a <registry>/condawheel-SUBDIR:latest "
        "placeholder to replace)",
    )
    parser.add_argument(
        "--abi3",
        metavar="3.X",
        help="for an abi3 (Limited API) project: build only on this CPython",
    )
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    output.text(cibuildwheel_config(args.subdir, image=args.image, abi3=args.abi3))
    return 0
