"""Command-line options shared by the commands that convert, merged with the config."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from condawheel.config import load_config
from condawheel.defaults import DEFAULT_GLIBC, DEFAULT_LINUX, DEFAULT_MACOS
from condawheel.exceptions import ConfigurationError, NothingToDoError

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the modules below are imported when a command runs, not for --help
    from condawheel.conda.fetch import FetchRequest
    from condawheel.conversion.plan import ConvertOptions


def process_count(text: str) -> int:
    """An argparse type: a number of processes, 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (1 or more)")
    return int(text)


def add_convert_arguments(
    parser: argparse.ArgumentParser,
    *,
    optional: bool = False,
    what: str = ".conda or .tar.bz2 files, or folders holding them",
) -> None:
    """The conversion flags and the PKG arguments (``optional``: --spec may stand for them)."""
    add_conversion_flags(parser)
    parser.add_argument(
        "packages",
        nargs="*" if optional else "+",
        type=Path,
        metavar="PKG",
        help=what,
    )


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """--spec and what it needs: packages solved from channels and downloaded."""
    group = parser.add_argument_group("packages from a channel")
    group.add_argument(
        "--spec",
        dest="specs",
        action="append",
        metavar="SPEC",
        help="a conda match spec, 'NAME[ VERSION[ BUILD]]' ('numpy', 'numpy 2.1.*', "
        "'numpy >=2 *py312*'): solve it, download the packages and convert the one it "
        "names; its dependencies are known as with --with (repeatable)",
    )
    group.add_argument(
        "-c",
        "--channel",
        dest="channels",
        action="append",
        metavar="CHANNEL",
        help="where --spec is solved from, in priority order: a name (conda-forge), a URL "
        "(https://..., file://...) or the path of a local channel (repeatable; required "
        "with --spec)",
    )
    group.add_argument(
        "--subdir",
        metavar="SUBDIR",
        help="the platform to solve for, with noarch (default: this machine's); another "
        f"platform's machine is assumed to have Linux {DEFAULT_LINUX} and glibc "
        f"{DEFAULT_GLIBC}, or macOS {DEFAULT_MACOS} (CONDA_OVERRIDE_GLIBC, "
        "CONDA_OVERRIDE_OSX, CONDA_OVERRIDE_CUDA change that)",
    )
    group.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where downloaded packages and channel indexes are kept (default: "
        "$XDG_CACHE_HOME/condawheel or ~/.cache/condawheel; ~/Library/Caches/condawheel "
        "on macOS, %%LOCALAPPDATA%%\\condawheel\\Cache on Windows)",
    )


def fetch_request(args: argparse.Namespace) -> FetchRequest | None:
    """What --spec asks to solve and download, or None without --spec."""
    if not args.specs:
        given = [
            flag
            for flag, value in (
                ("--channel", args.channels),
                ("--subdir", args.subdir),
                ("--cache-dir", args.cache_dir),
            )
            if value
        ]
        if given:
            verb = "is" if len(given) == 1 else "are"
            raise ConfigurationError(
                f"{' and '.join(given)} {verb} only used with --spec, which is missing"
            )
        return None
    if not args.channels:
        raise ConfigurationError(
            "--spec needs --channel: a channel name (conda-forge), a URL or a local channel's path"
        )
    from condawheel.conda.fetch import FetchRequest  # py-rattler's solver: only for --spec
    from condawheel.defaults import default_cache_dir

    return FetchRequest(
        specs=tuple(args.specs),
        channels=tuple(args.channels),
        subdir=args.subdir,
        cache_dir=args.cache_dir or default_cache_dir(),
    )


def add_conversion_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that shape a conversion, for every command that converts one package."""
    add_naming_flags(parser)
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
    add_standalone_flags(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def add_naming_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say what dependencies are and how wheels are tagged, for every
    command that converts (a mirror's builds too)."""
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
        help="JSON object mapping conda names to PyPI names (null: not a Python package); "
        "it comes before the published mapping that `condawheel mapping update` caches",
    )
    parser.add_argument(
        "--plain-tags",
        action="store_true",
        default=None,
        help="standard platform tags (linux_x86_64, ...) instead of conda_* tags: "
        "pip will then install the wheel outside conda, without conda's libraries",
    )


def add_standalone_flags(parser: argparse.ArgumentParser) -> None:
    """--standalone and --max-size, for the commands that convert or repair."""
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="a wheel for Pythons that are not conda's: bundle the libraries the binaries "
        "need from their conda providers (found with --with) and give it the standard tag "
        "it satisfies (manylinux_X_Y, checked against auditwheel's policy)",
    )
    parser.add_argument(
        "--max-size",
        type=parse_size,
        metavar="SIZE",
        help="with --standalone, warn when the bundled libraries add more than SIZE "
        "(bytes, or with K, M or G: 50M)",
    )


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str) -> int:
    """``50M`` -> 52428800; argparse reports the error as a usage error (exit 2)."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = cleaned[-1:] if cleaned[-1:] in ("K", "M", "G") else ""
    number = cleaned[: len(cleaned) - len(unit)]
    if not number.isdigit():
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r}; give bytes, or a number with K, M or G (50M)"
        )
    return int(number) * _UNITS[unit]


def convert_options(args: argparse.Namespace) -> ConvertOptions:
    from condawheel.conversion.mapping import mapping_path
    from condawheel.conversion.plan import ConvertOptions
    from condawheel.defaults import default_cache_dir

    config = load_config(Path.cwd())
    with_sources = args.with_sources or [Path(p) for p in config["with"]]
    name_map = args.name_map or (Path(config["name-map"]) if config["name-map"] else None)
    mapping = mapping_path(default_cache_dir())
    return ConvertOptions(
        with_sources=tuple(with_sources),
        name_map=name_map,
        mapping=mapping if mapping.is_file() else None,
        plain_tags=bool(args.plain_tags if args.plain_tags is not None else config["plain-tags"]),
        version=args.wheel_version,
        strict=bool(args.strict),
        overwrite=bool(getattr(args, "overwrite", None) or config["overwrite"]),
        standalone=bool(getattr(args, "standalone", False)),
        max_size=getattr(args, "max_size", None),
    )


def output_dir(args: argparse.Namespace) -> Path:
    return Path(args.wheel_dir or load_config(Path.cwd())["output-dir"])


def expand_packages(paths: list[Path]) -> list[Path]:
    """Package files as given, and the packages inside given folders (sorted).

    A build found as both `.conda` and `.tar.bz2` in one folder (as channels and
    mirrors hold them) is taken once, from the `.conda`, with a note saying so.
    """
    from condawheel.conda.source import is_conda_package

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
    return _one_per_build(found)


def _one_per_build(found: list[Path]) -> list[Path]:
    conda = {p.parent / p.name.removesuffix(".conda") for p in found if p.name.endswith(".conda")}
    kept: list[Path] = []
    for path in found:
        stem = path.parent / path.name.removesuffix(".tar.bz2")
        if path.name.endswith(".tar.bz2") and stem in conda:
            log.warning(
                "note: %s skipped: the same build as %s.conda, which is converted "
                "(a .conda is preferred)",
                path,
                stem.name,
            )
            continue
        kept.append(path)
    return kept
