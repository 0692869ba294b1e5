"""`condawheel build`: a conda recipe built, published to a local channel, converted."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condawheel.cli import output
from condawheel.cli.convert import result_json
from condawheel.cli.options import add_conversion_flags, convert_options, output_dir
from condawheel.config import load_config
from condawheel.defaults import CHANNEL_DIR
from condawheel.exceptions import ConfigurationError

if TYPE_CHECKING:  # rattler-build and the converter are imported when the command runs
    from condawheel.building.core import BuildResult
    from condawheel.building.recipes import BuildOptions

_HELP = f"""\
Build a conda recipe and convert every package it produces into a wheel.

recipe.yaml is built with rattler-build (py-rattler-build, installed with condawheel);
meta.yaml with conda-build, which must be on PATH. The conda packages go to
OUTDIR/{CHANNEL_DIR}/<subdir>/, an indexed local channel that a following build can use
with --channel file://OUTDIR/{CHANNEL_DIR}; the wheels go to OUTDIR. The conversion knows
the build's host environment, so libraries the package links are declared as
dependencies with their run_exports pins, and vendored copies are removed.

Without --channel, rattler-build solves from conda-forge. A variants.yaml beside the
recipe is read, as rattler-build does. A failed build ends with exit 2 and the tail of
its log (-v streams the whole log).

examples:
  condawheel build recipe/ -w dist
  condawheel build recipes/libfoo -w out -c conda-forge
  condawheel build recipes/pyfoo -w out -c file://$PWD/out/{CHANNEL_DIR} -c conda-forge \\
      --variant python=3.12
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "build",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "recipe",
        nargs="?",
        type=Path,
        metavar="RECIPE_DIR",
        help="directory holding recipe.yaml or meta.yaml (default: recipe in the config)",
    )
    parser.add_argument(
        "-w",
        "--wheel-dir",
        metavar="OUTDIR",
        help="where to write wheels, and conda packages under OUTDIR/conda "
        "(default: dist, or output-dir in the config)",
    )
    parser.add_argument(
        "-c",
        "--channel",
        dest="channels",
        action="append",
        metavar="URL",
        help="a channel to solve the build's requirements from: a name, a URL or a "
        "local path (repeatable, in priority order; default: conda-forge)",
    )
    parser.add_argument(
        "--variant",
        dest="variants",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a variant key, e.g. python=3.12 (repeat a key to build several)",
    )
    parser.add_argument(
        "-m",
        "--variant-config",
        dest="variant_files",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a variant configuration file (variants.yaml, conda_build_config.yaml)",
    )
    parser.add_argument(
        "--target-platform",
        metavar="SUBDIR",
        help="the conda subdir to build for, e.g. linux-aarch64 (default: this machine's)",
    )
    parser.add_argument(
        "--no-test", action="store_true", help="do not run the recipe's tests after building"
    )
    add_conversion_flags(parser)
    parser.set_defaults(execute=execute)


def options_of(args: argparse.Namespace) -> BuildOptions:
    from condawheel.building.recipes import build_options

    return build_options(
        load_config(Path.cwd()),
        channels=args.channels or (),
        variants=args.variants,
        variant_files=args.variant_files,
        target_platform=args.target_platform,
    )


def recipe_path(args: argparse.Namespace) -> Path:
    if args.recipe is not None:
        return Path(args.recipe)
    configured = load_config(Path.cwd())["recipe"]
    if not configured:
        raise ConfigurationError(
            "no recipe given: name a recipe directory, or set recipe in [tool.condawheel]"
        )
    return Path(configured)


def execute(args: argparse.Namespace) -> int:
    from condawheel.building.recipes import BuildFailedError
    from condawheel.cli.progress import log_display

    recipe = recipe_path(args)
    out_dir = output_dir(args)
    label = f"building {recipe}"
    try:
        with log_display(label, enabled=not args.json, echo=args.verbose) as on_log:
            # Loaded under the display, which a terminal then shows at once.
            from condawheel.building.core import build

            result = build(
                recipe,
                out_dir,
                options_of(args),
                convert_options(args),
                on_log=on_log,
                run_tests=not args.no_test,
            )
    except BuildFailedError as exc:
        if exc.log_tail and not args.verbose:
            output.log_tail(exc.log_tail)
        raise
    if args.json:
        output.json_document(build_json(result))
        return 0
    for conversion in result.conversions:
        for warning in conversion.warnings:
            output.warning(conversion.input.name, warning)
    for package in result.packages:
        output.line(str(package))
    for wheel in result.wheels:
        output.line(str(wheel))
    return 0


def build_json(result: BuildResult) -> dict[str, Any]:
    return {
        "recipe": str(result.recipe.path),
        "tool": result.recipe.tool,
        "channel": str(result.channel),
        "packages": [str(p) for p in result.packages],
        "wheels": [result_json(c) for c in result.conversions],
    }
