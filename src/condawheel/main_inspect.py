"""`condawheel inspect`: what convert would do with a package, and why."""

from __future__ import annotations

import argparse
import json
from typing import Any

from condawheel.convert import inspect_package
from condawheel.known import KnownPackages
from condawheel.options import add_convert_arguments, convert_options, expand_packages
from condawheel.report import report

_HELP = """\
Show what `condawheel convert` would do with a package, and why: the wheel's
name and tags and where each came from, where the files go, the binaries and
the libraries they need, how each conda dependency becomes wheel metadata, and
every warning. Nothing is written.

examples:
  condawheel inspect foo-1.2-py312h1234_0.conda
  condawheel inspect foo-1.2-py312h1234_0.conda --with $CONDA_PREFIX --json
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "inspect",
        help="show what convert would do, and why",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_convert_arguments(parser)
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    options = convert_options(args)
    known = KnownPackages.load(options.with_sources)
    reports = [
        report(inspect_package(package, options, known=known))
        for package in expand_packages(args.packages)
    ]
    if args.json:
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, sort_keys=True))
    else:
        print("\n\n".join(render(r) for r in reports))
    return 0


def render(data: dict[str, Any]) -> str:
    package, tags, files = data["package"], data["tags"], data["files"]
    lines = [
        f"{data['input']}",
        f"  conda package  {package['name']} {package['version']} {package['build']}"
        f" ({package['subdir']}, noarch: {package['noarch']})",
        f"  wheel          {data['wheel']}",
        "  tags           " + tags["tag"],
        *(f"                 {reason}" for reason in tags["reasons"]),
        f"  files          {files['total']}: "
        + ", ".join(f"{n} to {scheme}" for scheme, n in files["by_scheme"].items()),
    ]
    if files["metadata_basis"]:
        lines.append(f"  metadata       kept from {files['metadata_basis']}")
    if files["prefix_placeholders"]:
        lines.append(
            f"  placeholders   {len(files['prefix_placeholders'])} file(s) hold the "
            "build prefix (listed in conda/prefix.json)"
        )
    if data["binaries"]:
        lines.append("  binaries")
        for binary in data["binaries"]:
            floor = binary["glibc_floor"] or binary["macos_floor"]
            lines.append(
                f"    {binary['path']} ({binary['format']} {binary['arch']}"
                + (f", needs {floor}" if floor else "")
                + ")"
            )
            for use in data["libraries"]:
                if use["binary"] == binary["path"]:
                    by = use["satisfied_by"] + (f": {use['detail']}" if use["detail"] else "")
                    lines.append(f"      needs {use['needs']:<28} {by}")
    if data["dependencies"]:
        lines.append("  dependencies")
        for dep in data["dependencies"]:
            target = dep["requirement"] or "-"
            lines.append(f"    {dep['conda']:<32} -> {dep['kind']}: {target}")
            lines.append(f"    {'':<32}    ({dep['reason']})")
    for note in [*data["notes"], *files["notes"]]:
        lines.append(f"  note: {note}")
    for warning in data["warnings"]:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)
