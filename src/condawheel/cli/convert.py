"""`condawheel convert`: conda packages to wheels."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condawheel.cli import output
from condawheel.cli.options import (
    add_convert_arguments,
    add_spec_arguments,
    convert_options,
    expand_packages,
    fetch_request,
    output_dir,
    process_count,
)
from condawheel.exceptions import CondawheelError
from condawheel.quoting import one_line

if TYPE_CHECKING:  # the work's modules are imported when the command runs, not for --help
    from condawheel.conda.cache import Fetched
    from condawheel.conda.fetch import FetchRequest
    from condawheel.conda.known import KnownPackages
    from condawheel.conversion.batch import BatchItem
    from condawheel.conversion.core import ConvertResult
    from condawheel.conversion.plan import ConvertOptions

log = logging.getLogger(__name__)

_HELP = """\
Convert conda packages into wheels.

site-packages goes to the wheel root, bin/ (Scripts/) to scripts, and everything
else under the prefix (lib/, include/, share/, Library/) to .data/data, so that
it lands where conda would put it. Dependencies become Requires-Dist (Python)
or Requires-External (native), and binaries give a conda_* platform tag so that
only condawheel installs the wheel, into a conda environment.

With --spec, the packages come from channels: the specs are solved with py-rattler
for --subdir and noarch, every package of the solution is downloaded into the cache
(checked against the channel's sha256; a second run reuses it), and the packages the
specs name are converted. Their dependencies are not converted: they are known to
the conversion as with --with, for Python names, run_exports pins and libraries.

examples:
  condawheel convert foo-1.2-py312h1234_0.conda -w dist/
  condawheel convert pkgs/ -w dist/ --with $CONDA_PREFIX --json
  condawheel convert pkgs/ -w dist/ -j 4
  condawheel convert --spec "foo 1.2.*" --channel conda-forge --subdir linux-64 -w dist/
  condawheel convert --spec pyfoo --spec libfoo -c file://$PWD/channel -w dist/
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "convert",
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
    parser.add_argument(
        "-j",
        "--jobs",
        type=process_count,
        metavar="N",
        help="convert N packages at once, each in its own process (default: one per core); "
        "results come in the order given, and the wheels are the same bytes whatever N is",
    )
    add_convert_arguments(parser, optional=True)
    add_spec_arguments(parser)
    parser.set_defaults(execute=execute, usage_error=parser.error)


def execute(args: argparse.Namespace) -> int:
    from condawheel.conda.known import KnownPackages
    from condawheel.wheel.writer import check_output_dir

    if not args.packages and not args.specs:
        args.usage_error("give packages to convert (PKG...), or --spec with --channel")
    request = fetch_request(args)
    options = convert_options(args)
    out_dir = output_dir(args)
    check_output_dir(out_dir)  # once, rather than once for each package
    packages = expand_packages(args.packages) if args.packages else []
    if request is not None:
        try:
            fetched = _fetch(request, show_progress=not args.json)
        except CondawheelError as exc:
            if not args.json:
                raise
            output.json_line(
                {"spec": list(request.specs), "error": str(exc), "exit_code": exc.exit_code}
            )
            return exc.exit_code
        packages.extend(fetched.requested)
        options = replace(options, with_sources=(*options.with_sources, *fetched.dependencies))
    known = KnownPackages.load(options.with_sources)
    return _convert_all(packages, out_dir, options, known, args)


def _convert_all(
    packages: list[Path],
    out_dir: Path,
    options: ConvertOptions,
    known: KnownPackages,
    args: argparse.Namespace,
) -> int:
    """Each package in its turn, or on ``args.jobs`` processes; either way one progress
    display, and results in input order."""
    from condawheel.cli.progress import progress_bar
    from condawheel.conversion.batch import convert_many
    from condawheel.wheel.deflate import available_cores

    jobs = min(args.jobs or available_cores(), max(1, len(packages)))
    total = sum(p.stat().st_size for p in packages if p.is_file())
    label = packages[0].name if len(packages) == 1 else f"converting {len(packages)} packages"
    exit_code = 0
    with progress_bar(label, total, enabled=not args.json) as advance:
        batch = convert_many(
            packages, out_dir, options, jobs=jobs, known=known, on_progress=advance
        )
        for item in batch:
            exit_code = max(exit_code, _report(item, as_json=args.json))
    return exit_code


def _report(item: BatchItem, *, as_json: bool) -> int:
    """Say how one package went; its exit code."""
    if item.error is not None:
        exc = item.error
        if as_json:
            output.json_line(
                {"input": str(item.input), "error": one_line(str(exc)), "exit_code": exc.exit_code}
            )
        else:
            output.error(one_line(str(exc)))
        return exc.exit_code
    assert item.result is not None
    if as_json:
        output.json_line(result_json(item.result))
    else:
        for warning in item.result.warnings:
            output.warning(item.input.name, warning)
        output.line(str(item.result.wheel))
    return 0


def _fetch(request: FetchRequest, *, show_progress: bool) -> Fetched:
    from condawheel.cli.progress import progress_bar
    from condawheel.conda.cache import ArchiveCache
    from condawheel.conda.fetch import solve

    solution = solve(request)
    for package in solution.requested:
        log.info("solved %s %s %s (%s)", package.name, package.version, package.build, package.url)
    cache = ArchiveCache(request.cache_dir)
    missing = cache.missing(solution)
    if not missing:
        return cache.fetch(solution)
    label = f"downloading {len(missing)} package{'s' if len(missing) != 1 else ''}"
    total = sum(package.size or 0 for package in missing)
    with progress_bar(label, total, enabled=show_progress) as advance:
        return cache.fetch(solution, on_progress=advance)


def result_json(result: ConvertResult) -> dict[str, Any]:
    from condawheel.cli.report import standalone_report

    found: dict[str, Any] = {
        "input": str(result.input),
        "wheel": str(result.wheel),
        "tags": [result.tags.tag],
        "warnings": list(result.warnings),
    }
    if result.standalone is not None:
        found["standalone"] = standalone_report(result.standalone)
    return found
