"""`condawheel index`: a static simple index (PEP 503, 691, 658) for a folder of wheels."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condawheel.cli import output

if TYPE_CHECKING:  # imported when the command runs, not for --help
    from condawheel.publishing.static_index import IndexResult

_HELP = """\
Write a static simple repository for the wheels in DIR, so that a plain web server
can be an index for condawheel install (and for pip, for the wheels it accepts):

  DIR/simple/index.html, DIR/simple/<project>/index.html   PEP 503 pages
  DIR/simple/index.json, DIR/simple/<project>/index.json   the same, in PEP 691 JSON
  DIR/<wheel>.metadata                                     each wheel's METADATA (PEP 658)

Each link carries the wheel's sha256, its Requires-Python, and the sha256 of its
metadata file. Running it again brings the index up to date: pages of wheels that are
gone are removed, and files that would not change are left alone.

Serve DIR, and give installers the URL of DIR/simple/. Links to the wheels are relative
(../../<wheel>), unless --base-url says where the wheels are served from; the
<wheel>.metadata files must then be served there too.

A static host answers a folder's URL with its index.html, which pip, uv and condawheel
read. The JSON pages need a host that picks the page by the request's Accept header
(PEP 691), for example Apache:
    AddType application/vnd.pypi.simple.v1+json .json
    DirectoryIndex index          # with Options +MultiViews
or nginx:
    types { text/html html; application/vnd.pypi.simple.v1+json json; }
    map $http_accept $simple_page {
        ~vnd\\.pypi\\.simple\\.v1\\+json index.json;
        default index.html;
    }
    location /simple/ { index $simple_page; }

examples:
  condawheel index dist/
  python -m http.server --directory dist 8000     # then, in a conda environment:
  condawheel install foo --index-url http://127.0.0.1:8000/simple/
  condawheel index dist/ --base-url https://wheels.example.org/files/
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "index",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the folder of wheels")
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="where the wheels (and their .metadata files) are served from "
        "(default: links relative to DIR/simple/)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from condawheel.publishing.static_index import build_index

    result = build_index(args.directory, base_url=args.base_url)
    if args.json:
        output.json_document(result_json(result))
        return 0
    for path in result.removed:
        output.line(f"removed {path}")
    count = len(result.wheels)
    output.line(
        f"indexed {count} wheel(s) of {len(result.projects)} project(s) in {result.root}/ "
        f"({len(result.written)} file(s) written, {len(result.removed)} removed)"
    )
    return 0


def result_json(result: IndexResult) -> dict[str, Any]:
    return {
        "index": str(result.root),
        "projects": {
            project: [
                {
                    "wheel": str(wheel.path),
                    "version": str(wheel.version),
                    "sha256": wheel.sha256,
                    "requires_python": wheel.requires_python,
                }
                for wheel in wheels
            ]
            for project, wheels in result.projects.items()
        },
        "written": [str(p) for p in result.written],
        "removed": [str(p) for p in result.removed],
    }
