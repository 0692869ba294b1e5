"""`condawheel mapping update`: cache the published conda-to-PyPI name mapping."""

from __future__ import annotations

import argparse
from typing import Any

from condawheel.cli import output
from condawheel.conversion.mapping import DEFAULT_URL, update_mapping

_HELP = f"""\
Download a published conda-to-PyPI name mapping (prefix.dev's parselmouth mapping for
conda-forge by default) into condawheel's cache. From then on, convert, inspect and
build use it to name dependencies: after the names read from --with packages and the
--name-map file, before condawheel's own small table. Nothing is downloaded unless
you run this; run it again to refresh the mapping.

The cache is $XDG_CACHE_HOME/condawheel (else ~/.cache/condawheel); the mapping is
mapping/conda-pypi.json there. A JSON object of conda name -> PyPI name (or null for a
package known not to be Python) is accepted from any URL, file:// included.

examples:
  condawheel mapping update
  condawheel mapping update --url file:///srv/mappings/conda-pypi.json --json

default URL: {DEFAULT_URL}
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "mapping",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    update = actions.add_parser(
        "update",
        help="download the mapping into the cache",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    update.add_argument("--url", default=DEFAULT_URL, help="where to download it from")
    update.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    update.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from condawheel.defaults import default_cache_dir

    result = update_mapping(default_cache_dir(), args.url)
    if args.json:
        output.json_line(
            {
                "path": str(result.path),
                "url": result.url,
                "entries": result.entries,
                "python": result.python,
                "changed": result.changed,
            }
        )
    else:
        state = "updated" if result.changed else "unchanged"
        output.line(
            f"{result.path}: {state}, {result.entries} conda names "
            f"({result.python} Python distributions) from {result.url}"
        )
    return 0
