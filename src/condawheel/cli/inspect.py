"""`condawheel inspect`: what convert would do with a package, or repair with a wheel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from condawheel.cli import output
from condawheel.cli.options import add_convert_arguments, convert_options, expand_packages
from condawheel.exceptions import CondawheelError
from condawheel.quoting import one_line

if TYPE_CHECKING:  # the work's modules are imported when the command runs, not for --help
    from pathlib import Path

    from condawheel.conda.known import KnownPackages
    from condawheel.conversion.plan import ConvertOptions

_HELP = """\
Show what `condawheel convert` would do with a package, and why: the wheel's
name and tags and where each came from, where the files go, the binaries and
the libraries they need, how each conda dependency becomes wheel metadata, and
every warning. Given a wheel, show what `condawheel repair` would do with it: the
libraries each binary needs and who provides them (the conda environment of --with,
else $CONDA_PREFIX), the vendored copies it would remove, the Requires-External it
would add and the tag it would give. Nothing is written.

examples:
  condawheel inspect foo-1.2-py312h1234_0.conda
  condawheel inspect foo-1.2-py312h1234_0.conda --with $CONDA_PREFIX --json
  condawheel inspect dist/foo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl --with $CONDA_PREFIX
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "inspect",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_convert_arguments(
        parser, what=".conda or .tar.bz2 files, folders holding them, or wheels (.whl)"
    )
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    """Report on each package in turn, going on past a broken one as `convert` does;
    with --json, one JSON object per line (a report, or the error)."""
    from condawheel.cli.report import report
    from condawheel.conda.known import KnownPackages
    from condawheel.conversion.core import inspect_package

    options = convert_options(args)
    known: KnownPackages | None = None  # read once, and only when a package needs it
    exit_code = 0
    shown = 0
    for path in expand_packages(args.packages):
        is_wheel = path.name.endswith(".whl")
        if known is None and not is_wheel:
            known = KnownPackages.load(options.with_sources)
        try:
            if is_wheel:
                data = _wheel_report(path, options)
            else:
                assert known is not None
                data = report(inspect_package(path, options, known=known))
        except CondawheelError as exc:
            exit_code = max(exit_code, exc.exit_code)
            if args.json:
                output.json_line(
                    {"input": str(path), "error": one_line(str(exc)), "exit_code": exc.exit_code}
                )
            else:
                output.error(one_line(str(exc)))
            continue
        if args.json:
            output.json_line(data)
        else:
            output.line(
                ("\n" if shown else "") + (render_wheel(data) if is_wheel else render(data))
            )
        shown += 1
    return exit_code


def _wheel_report(path: Path, options: ConvertOptions) -> dict[str, Any]:
    """What `repair` would do with a wheel; loaded only when a wheel is given."""
    from condawheel.cli.report import repair_report
    from condawheel.conversion.repair import RepairOptions, inspect_wheel

    wheel_options = RepairOptions(
        with_sources=options.with_sources,
        plain_tags=options.plain_tags,
        strict=options.strict,
        standalone=options.standalone,
        max_size=options.max_size,
    )
    return repair_report(inspect_wheel(path, wheel_options))


def render_wheel(data: dict[str, Any]) -> str:
    lines = [
        f"{data['input']}",
        f"  repaired as    {data['wheel']}",
        f"  tag            {data['tag']}",
    ]
    if data["removed"]:
        lines.append("  vendored       " + ", ".join(data["removed"]) + " (removed)")
    if data["requires_external"]:
        lines.append("  declares       " + ", ".join(data["requires_external"]))
    lines += _bundled(data["standalone"])
    if data["libraries"]:
        lines.append("  libraries")
    for use in data["libraries"]:
        detail = f": {use['detail']}" if use["detail"] else ""
        lines.append(f"    {use['binary']} needs {use['needs']}: {use['satisfied_by']}{detail}")
    lines += [output.labelled("note", n) for n in data["notes"]]
    lines += [output.labelled("warning", w) for w in data["warnings"]]
    return "\n".join(lines)


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
    lines += _bundled(data["standalone"])
    lines += [output.labelled("note", n) for n in [*data["notes"], *files["notes"]]]
    lines += [output.labelled("warning", w) for w in data["warnings"]]
    return "\n".join(lines)


def _bundled(standalone: dict[str, Any] | None) -> list[str]:
    """The closure --standalone bundles: library, provider, size, licence."""
    if standalone is None:
        return []
    libraries = standalone["bundled"]
    lines = [f"  standalone     {standalone['tag']}: {standalone['why']}"]
    if not libraries:
        return [*lines, "  bundled        nothing"]
    lines.append(f"  bundled        {len(libraries)} libraries, {standalone['size']} bytes")
    rows = [
        (lib["library"], f"{lib['provider']} {lib['version']}", str(lib["size"]),
         lib["licence"] or "?")
        for lib in libraries
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row, lib in zip(rows, libraries, strict=True):
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        lines.append(f"    {cells}  {row[3]}")
        lines.append(f"      as {lib['wheel_path']} ({lib['reason']})")
    return lines
