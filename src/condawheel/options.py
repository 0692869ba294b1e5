"""Command-line options shared by the commands that convert, merged with the config."""

from __future__ import annotations

import argparse
from pathlib import Path

from condawheel.config import load_config
from condawheel.exceptions import NothingToDoError
from condawheel.plan import ConvertOptions
from condawheel.source import is_conda_package


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    add_conversion_flags(parser)
    parser.add_argument(
        "packages",
        nargs="+",
        type=Path,
        metavar="PKG",
        help=".conda or .tar.bz2 files, or folders holding them",
    )


def add_conversion_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that shape a conversion, for every command that converts."""
    parser.add_argument(
        "--with",
        dest="with_sources",
        action="append",
        type=Path,
        metavar="PKG_OR_DIR",
        help="a conda prefix, local channel, folder of packages or package file that "
        "describes dependencies: their Python names and what they provide (repeatable)",
    )
    parser.add_argument(
        "--name-map",
        type=Path,
        metavar="FILE",
        help="JSON object mapping conda names to PyPI names (null: not a Python package)",
    )
    parser.add_argument(
        "--plain-tags",
        action="store_true",
        default=None,
        help="standard platform tags (linux_x86_64, ...) instead of conda_* tags: "
        "pip will then install the wheel outside conda, without conda's libraries",
    )
    parser.add_argument(
        "--version",
        dest="wheel_version",
        metavar="VERSION",
        help="the wheel's version, for a conda version that is not valid PEP 440",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail when a binary needs a library that neither the package, its declared "
        "dependencies (see --with) nor the platform provides",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def convert_options(args: argparse.Namespace) -> ConvertOptions:
    config = load_config(Path.cwd())
    with_sources = args.with_sources or [Path(p) for p in config["with"]]
    name_map = args.name_map or (Path(config["name-map"]) if config["name-map"] else None)
    return ConvertOptions(
        with_sources=tuple(with_sources),
        name_map=name_map,
        plain_tags=bool(args.plain_tags if args.plain_tags is not None else config["plain-tags"]),
        version=args.wheel_version,
        strict=bool(args.strict),
        overwrite=bool(getattr(args, "overwrite", None) or config["overwrite"]),
    )


def output_dir(args: argparse.Namespace) -> Path:
    return Path(args.wheel_dir or load_config(Path.cwd())["output-dir"])


def expand_packages(paths: list[Path]) -> list[Path]:
    """Package files as given, and the packages inside given folders (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_conda_package(p)))
        else:
            found.append(path)
    if not found:
        raise NothingToDoError(
            "no .conda or .tar.bz2 packages found in " + ", ".join(map(str, paths))
        )
    return found
