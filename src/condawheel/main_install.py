"""`condawheel install`: conda-tagged wheels into a conda environment."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from condawheel.environment import CondaEnvironment
from condawheel.install import InstallOptions, InstallPlan, InstallResult, install, plan_install

_HELP = """\
Install conda-tagged wheels (conda_linux_2_17_x86_64, ...) into a conda environment,
which pip and uv refuse by design. Before touching anything it checks that the wheel's
tags fit the environment's Python and platform, that its Requires-External are met by
conda packages in the environment and its Requires-Dist by installed distributions
(--no-deps skips these two), that no file belongs to a conda package, and that the
environment is not EXTERNALLY-MANAGED. Anything missing is reported with the conda
install or pip install command that would fix it. Prefix placeholders listed in the
wheel are replaced with the environment's prefix, as conda does. On any failure the
environment is left as it was.

examples:
  condawheel install dist/foo-1.0-0_py312h1_0-cp312-cp312-conda_linux_2_17_x86_64.whl
  condawheel install dist/*.whl --prefix /opt/conda/envs/work --dry-run
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "install",
        help="install conda-tagged wheels into a conda environment",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("wheels", nargs="+", type=Path, metavar="WHEEL")
    parser.add_argument(
        "-p",
        "--prefix",
        type=Path,
        metavar="PREFIX",
        help="the conda environment to install into (default: $CONDA_PREFIX)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and say what would be done; change nothing"
    )
    parser.add_argument(
        "--no-deps",
        action="store_true",
        help="do not check Requires-Dist and Requires-External (the tags are still checked)",
    )
    parser.add_argument(
        "--break-system-packages",
        action="store_true",
        help="install even into an environment marked EXTERNALLY-MANAGED (PEP 668)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    environment = CondaEnvironment.open(args.prefix)
    options = InstallOptions(no_deps=args.no_deps, break_system_packages=args.break_system_packages)
    plan = plan_install(args.wheels, environment, options)
    result = None
    if not args.dry_run and not plan.problems:
        result = install(plan)
    if args.json:
        print(json.dumps(plan_json(plan, result, dry_run=args.dry_run), indent=2, sort_keys=True))
    elif args.dry_run:
        _print_plan(plan)
    elif result is not None:
        for wheel in plan.wheels:
            replaced = f" (replaced {wheel.replaces.version})" if wheel.replaces else ""
            print(f"installed {wheel.name} {wheel.version}{replaced} into {environment.prefix}")
        if result.rewritten:
            print(f"replaced the prefix placeholder in {len(result.rewritten)} file(s)")
    if plan.problems:
        raise plan.error()
    return 0


def _print_plan(plan: InstallPlan) -> None:
    environment = plan.environment
    interpreter = environment.interpreter
    print(
        f"environment {environment.prefix}: {environment.subdir}, "
        f"{interpreter.implementation} {'.'.join(map(str, interpreter.version))}"
    )
    for check in plan.checks:
        where = f"{check.wheel}: " if check.wheel else ""
        print(f"  {'ok  ' if check.ok else 'FAIL'} {check.what}: {where}{check.detail}")
    verb = "cannot install" if plan.problems else "would install"
    for wheel in plan.wheels:
        print(f"{verb} {wheel.name} {wheel.version} from {wheel.wheel.name}:")
        if wheel.replaces:
            print(f"  replacing {wheel.replaces.name} {wheel.replaces.version}")
        for path in wheel.removes:
            print(f"  remove    {path}")
        for path in wheel.overwrites:
            print(f"  overwrite {path}")
        for path in wheel.destinations.values():
            print(f"  write     {path}")
        for entry in wheel.placeholders:
            print(f"  prefix    {wheel.destinations[entry.path]} ({entry.mode})")
    for command in plan.fix_commands():
        print(f"to fix: {command}")


def plan_json(plan: InstallPlan, result: InstallResult | None, *, dry_run: bool) -> dict[str, Any]:
    return {
        "prefix": str(plan.environment.prefix),
        "subdir": plan.environment.subdir,
        "python": ".".join(map(str, plan.environment.interpreter.version)),
        "dry_run": dry_run,
        "installed": result is not None,
        "wheels": [
            {
                "wheel": str(wheel.wheel),
                "name": wheel.name,
                "version": wheel.version,
                "replaces": (
                    {"name": wheel.replaces.name, "version": wheel.replaces.version}
                    if wheel.replaces
                    else None
                ),
                "files": [str(p) for p in wheel.destinations.values()],
                "removes": [str(p) for p in wheel.removes],
                "overwrites": [str(p) for p in wheel.overwrites],
                "placeholders": [
                    {"path": str(wheel.destinations[e.path]), "mode": e.mode}
                    for e in wheel.placeholders
                ],
            }
            for wheel in plan.wheels
        ],
        "checks": [
            {"wheel": c.wheel, "check": c.what, "ok": c.ok, "detail": c.detail} for c in plan.checks
        ],
        "problems": [c.detail for c in plan.problems],
        "fix": plan.fix_commands(),
        "rewritten": [str(p) for p in result.rewritten] if result else [],
    }
