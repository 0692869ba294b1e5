"""`condawheel mirror`: every build of a channel as a wheel, in a folder with its index."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condawheel.cli import output
from condawheel.cli.options import add_naming_flags, convert_options, output_dir, process_count

if TYPE_CHECKING:  # imported when the command runs, not for --help
    from condawheel.mirroring.core import MirroredBuild, MirrorResult

_HELP = """\
Convert every build of a channel into wheels in OUT, and write OUT's static index
(as `condawheel index OUT` does), so that OUT can be served as a package index.

CHANNEL is a name (conda-forge), a URL (https://..., file://...) or a local channel's
path. Each subdir's repodata.json is read and checked first: an index that is not valid
(wrong types, a file name such as ../x.conda) is one error, and nothing is converted.
Then each build, in a stable order, is downloaded through the cache (checked against
the index's sha256) and converted. A build offered as both .conda and .tar.bz2 is
converted once, from the .conda.

Run it again and only what is new is converted: OUT/.condawheel-mirror/ remembers each
build's sha256 and the wheel it gave, so a build that changed (or whose wheel is gone)
is converted again, and a run that was killed goes on where it stopped (wheels appear
whole or not at all). The last line counts the builds: new, already done, skipped.

A build that cannot be converted is reported on one line and skipped, and the exit
status is then 2; --strict stops at the first one instead. It is not tried again until
it changes, or condawheel or the settings (--with, --name-map, --plain-tags) do, which
also convert every build again; a failed download is tried again on the next run.

For more than one machine, --shard K/N takes the K-th of N disjoint parts of the
builds (by a hash of each build's name, so a part keeps its builds as the channel
grows). Run N workers, copy their OUT folders into one, and run `condawheel index` on
it: the index is the one a single run would write. See the README for a GitHub Actions
matrix that does this.

--prune removes the wheels of builds the channel no longer lists (a build marked
broken, an old one cleaned up): only wheels this mirror wrote, and their index entries.

One mirror at a time writes in an OUT folder: a second one stops at once.

examples:
  condawheel mirror conda-forge --subdir noarch -w wheels/
  condawheel mirror https://repo.example.org/channel -w wheels/ --subdir linux-64 --subdir noarch
  condawheel mirror file://$PWD/channel -w wheels/ --json -j 4
  condawheel mirror conda-forge --subdir noarch -w wheels/ --prune
  condawheel mirror conda-forge --subdir noarch -w part-2/ --shard 2/8
  condawheel index wheels/                     # after copying part-*/ into wheels/
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "mirror",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "channel", metavar="CHANNEL", help="a channel name, URL or local channel path"
    )
    parser.add_argument(
        "-w",
        "--wheel-dir",
        metavar="OUT",
        help="where to write the wheels and the index (default: dist, or output-dir in the config)",
    )
    parser.add_argument(
        "--subdir",
        dest="subdirs",
        action="append",
        metavar="SUBDIR",
        help="a subdir to mirror (repeatable; default: this machine's and noarch; when "
        "given, only those given)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=process_count,
        metavar="N",
        help="convert N builds at once, each in its own process (default: one per core); "
        "the wheels are the same bytes whatever N is",
    )
    _add_run_flags(parser)
    add_naming_flags(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per build on stdout, then one for the summary",
    )
    # What the shared conversion settings read; a mirror converts many versions, and
    # its --strict is about builds, not libraries.
    parser.set_defaults(execute=execute, wheel_version=None, strict=False)


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    """Which builds a run takes, what it does with the rest, and where things go."""
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="convert only the K-th of N disjoint parts of the builds (1 <= K <= N)",
    )
    parser.add_argument(
        "--strict",
        dest="stop_at_skip",
        action="store_true",
        help="stop at the first build that cannot be converted (default: report it, "
        "skip it, go on, and exit 2 at the end)",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="remove the wheels of builds the channel no longer has (only wheels this "
        "mirror wrote)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="where the wheels will be served from, for the index's links (default: "
        "relative links)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where downloaded packages and channel indexes are kept (default: "
        "$XDG_CACHE_HOME/condawheel or ~/.cache/condawheel)",
    )


def execute(args: argparse.Namespace) -> int:
    from condawheel.mirroring.shard import Shard  # light: a bad --shard is answered at once

    shard = Shard.parse(args.shard) if args.shard is not None else None

    from condawheel.cli.progress import count_display
    from condawheel.mirroring.core import MirrorOptions, mirror
    from condawheel.wheel.writer import check_output_dir

    out_dir = output_dir(args)
    check_output_dir(out_dir)
    options = MirrorOptions(
        subdirs=tuple(args.subdirs or ()),
        shard=shard,
        strict=args.stop_at_skip,
        prune=args.prune,
        cache_dir=args.cache_dir,
        base_url=args.base_url,
        convert=convert_options(args),
        jobs=args.jobs,
    )

    with count_display("mirroring", enabled=not args.json) as counter:

        def on_build(outcome: MirroredBuild) -> None:
            counter.advance(outcome.build)
            _report(outcome, as_json=args.json)

        result = mirror(args.channel, out_dir, options, on_start=counter.start, on_build=on_build)
    if args.json:
        output.json_line(result_json(result))
    else:
        output.line(summary(result))
    return 2 if result.skipped else 0


def _report(outcome: MirroredBuild, *, as_json: bool) -> None:
    if as_json:
        output.json_line(build_json(outcome))
    elif outcome.status == "skipped":
        output.error(f"{outcome.build}: skipped: {outcome.reason}")


def summary(result: MirrorResult) -> str:
    """The one line that says what a run did."""
    counts = (
        f"{result.converted} new build{'s' if result.converted != 1 else ''} converted, "
        f"{result.done} already done, {result.skipped} skipped"
    )
    if result.pruned:
        counts += f", {result.pruned} pruned"
    if result.other_shards:
        counts += f" ({result.other_shards} left to other shards)"
    if result.index is None:
        return f"{counts}; no wheels in {result.out_dir} to index"
    return f"{counts}; index of {len(result.index.wheels)} wheel(s) in {result.index.root}/"


def build_json(outcome: MirroredBuild) -> dict[str, Any]:
    return {
        "build": outcome.build,
        "url": outcome.url,
        "sha256": outcome.sha256,
        "status": outcome.status,
        "wheel": str(outcome.wheel) if outcome.wheel is not None else None,
        "reason": outcome.reason,
        "warnings": list(outcome.warnings),
    }


def result_json(result: MirrorResult) -> dict[str, Any]:
    return {
        "summary": {
            "converted": result.converted,
            "done": result.done,
            "skipped": result.skipped,
            "pruned": result.pruned,
            "other_shards": result.other_shards,
        },
        "wheel_dir": str(result.out_dir),
        "index": str(result.index.root) if result.index is not None else None,
    }
