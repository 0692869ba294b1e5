"""What `condawheel install` says: the plan (--dry-run), what was installed, what was
satisfied already, and the same as JSON-ready data (--json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from condawheel.cli import output

if TYPE_CHECKING:  # the installer's modules are imported when the command runs, not for --help
    from condawheel.installation.core import InstallPlan, InstallResult
    from condawheel.installation.environment import CondaEnvironment
    from condawheel.installation.resolve import Resolution, Satisfied


def print_installed(
    plan: InstallPlan, result: InstallResult, resolution: Resolution | None
) -> None:
    urls = {f.wheel.name: f.url for f in resolution.fetched} if resolution else {}
    for wheel in plan.wheels:
        replaced = f" (replaced {wheel.replaces.version})" if wheel.replaces else ""
        source = urls.get(wheel.wheel.name, str(wheel.wheel))
        output.line(
            f"installed {wheel.name} {wheel.version}{replaced} into {plan.environment.prefix} "
            f"from {source}"
        )
    if result.rewritten:
        output.line(f"replaced the prefix placeholder in {len(result.rewritten)} file(s)")


def print_satisfied(satisfied: Sequence[Satisfied]) -> None:
    for item in satisfied:
        needed_by = f", needed by {item.needed_by}" if item.needed_by else ""
        output.line(
            f"requirement already satisfied: {item.requirement} "
            f"({item.name} {item.version} is installed{needed_by})"
        )


def print_plan(plan: InstallPlan) -> None:
    environment = plan.environment
    interpreter = environment.interpreter
    output.line(
        f"environment {environment.prefix}: {environment.subdir}, "
        f"{interpreter.implementation} {'.'.join(map(str, interpreter.version))}"
    )
    for check in plan.checks:
        where = f"{check.wheel}: " if check.wheel else ""
        output.line(f"  {'ok  ' if check.ok else 'FAIL'} {check.what}: {where}{check.detail}")
    verb = "cannot install" if plan.problems else "would install"
    for wheel in plan.wheels:
        output.line(f"{verb} {wheel.name} {wheel.version} from {wheel.wheel.name}:")
        if wheel.replaces:
            output.line(f"  replacing {wheel.replaces.name} {wheel.replaces.version}")
        for path in wheel.removes:
            output.line(f"  remove    {path}")
        for reason in wheel.kept:
            output.line(f"  keep      {reason}")
        for path in wheel.overwrites:
            output.line(f"  overwrite {path}")
        for path in wheel.destinations.values():
            output.line(f"  write     {path}")
        for entry in wheel.placeholders:
            output.line(f"  prefix    {wheel.destinations[entry.path]} ({entry.mode})")
    for command in plan.fix_commands():
        output.line(f"to fix: {command}")


def plan_json(
    plan: InstallPlan,
    result: InstallResult | None,
    *,
    dry_run: bool,
    resolution: Resolution | None = None,
) -> dict[str, Any]:
    report = {
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
                "kept": list(wheel.kept),
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
    if resolution is not None:
        report["index"] = resolution_json(resolution)
    return report


def nothing_json(
    environment: CondaEnvironment, resolution: Resolution, dry_run: bool
) -> dict[str, Any]:
    """The report when everything asked for is installed already."""
    return {
        "prefix": str(environment.prefix),
        "subdir": environment.subdir,
        "python": ".".join(map(str, environment.interpreter.version)),
        "dry_run": dry_run,
        "installed": False,
        "wheels": [],
        "checks": [],
        "problems": [],
        "fix": [],
        "rewritten": [],
        "index": resolution_json(resolution),
    }


def resolution_json(resolution: Resolution) -> dict[str, Any]:
    """What was fetched from the index (the wheels' names: they were downloaded to a
    temporary folder), and what the environment had already."""
    return {
        "fetched": [
            {
                "name": f.name,
                "version": f.version,
                "wheel": f.wheel.name,
                "needed_by": f.needed_by or None,
                "url": f.url,
                "sha256": f.sha256,
            }
            for f in resolution.fetched
        ],
        "satisfied": [
            {
                "name": s.name,
                "version": s.version,
                "requirement": s.requirement,
                "needed_by": s.needed_by or None,
            }
            for s in resolution.satisfied
        ],
    }
