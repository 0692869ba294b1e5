"""`condawheel install`: conda-tagged wheels into a conda environment."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condawheel.cli import output
from condawheel.cli.install_report import (
    nothing_json,
    plan_json,
    print_installed,
    print_plan,
    print_satisfied,
)
from condawheel.exceptions import BadInputError

if TYPE_CHECKING:  # the installer's modules are imported when the command runs, not for --help
    from condawheel.installation.core import InstallOptions
    from condawheel.installation.download import IndexOptions
    from condawheel.installation.environment import CondaEnvironment
    from condawheel.installation.resolve import Resolution
    from condawheel.installation.transaction import Recovery

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

With --index-url, give requirements by name (foo, 'foo>=1.2', 'foo[extra]'): pip's
resolver, run for the environment's own Python (pip --python ENV/bin/python install
--dry-run --report), picks the conda-tagged or pure-Python wheels that fit the
environment's Python and platform on that index (a PEP 503 simple index, such as one
`condawheel index` wrote, or a server condawheel publish uploads to), backtracking as
pip does; what is installed and meets a requirement counts as it is and is left alone
(--upgrade asks for the newest version of what you name, as pip install --upgrade).
Exactly the wheels pip chose are then downloaded, checked against the sha256 pip
resolved with, and checked and installed as above; pip itself installs nothing.
Dependencies only published as manylinux wheels are not taken: install those with
conda, or pip, first. An argument ending in .whl is a wheel file; it takes part in the
resolution, and its dependencies come from the index too. Wheels come only from
--index-url and --extra-index-url: pip's configuration files are not read, nor
PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS; its other PIP_* variables
(certificates, proxies, timeouts) apply. Each installed wheel is shown with its URL.

One installation at a time per environment: another waits (--no-wait: exits 2, naming
the holder's pid). An installation that was killed is rolled back by the next one, or
by condawheel install --recover.

examples:
  condawheel install dist/foo-1.0-0_py312h1_0-cp312-cp312-conda_linux_2_17_x86_64.whl
  condawheel install dist/*.whl --prefix /opt/conda/envs/work --dry-run
  condawheel install foo --index-url https://pypi.internal.example/simple/
  condawheel install 'foo>=1.2' bar --index-url http://127.0.0.1:8000/simple/ \\
      --extra-index-url https://pypi.org/simple/ --prefix /opt/conda/envs/work
  condawheel install -U foo dist/bar-1.0-py3-none-any.whl --dry-run --json \\
      -i https://pypi.internal.example/simple/
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "install",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="WHEEL|REQUIREMENT",
        help="wheel files, or with --index-url, requirements such as foo or 'foo>=1.2'",
    )
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
        help="do not check Requires-Dist and Requires-External, nor fetch dependencies "
        "from the index (the tags are still checked)",
    )
    parser.add_argument(
        "--break-system-packages",
        action="store_true",
        help="install even into an environment marked EXTERNALLY-MANAGED (PEP 668)",
    )
    _add_index_arguments(parser)
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="if another condawheel is installing into the environment, exit (2) at once "
        "instead of waiting for it",
    )
    parser.add_argument(
        "--recover",
        action="store_true",
        help="roll back an installation that was interrupted (killed, power loss); every "
        "install does this first, --recover does only this when given no wheels",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    parser.set_defaults(execute=execute)


def _add_index_arguments(parser: argparse.ArgumentParser) -> None:
    """Installing by name: the index, more indexes, and --upgrade."""
    parser.add_argument(
        "-i",
        "--index-url",
        metavar="URL",
        help="the simple index (PEP 503) to find requirements and dependencies on",
    )
    parser.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="URL",
        help="another index to look on too (repeatable; needs --index-url)",
    )
    parser.add_argument(
        "-U",
        "--upgrade",
        action="store_true",
        help="with --index-url: the newest version of what you name, even when an "
        "installed version meets the requirement (pip's --upgrade, only-if-needed)",
    )


def execute(args: argparse.Namespace) -> int:
    from condawheel.installation.environment import locate
    from condawheel.installation.lock import prefix_lock
    from condawheel.installation.resolve import split_targets
    from condawheel.installation.transaction import recover

    if not args.targets and not args.recover:
        raise BadInputError("give the wheels (or requirements) to install, or --recover")
    wheels, requirements = split_targets(args.targets)
    index = _index_options(args, requirements)
    prefix = locate(args.prefix, os.environ)
    # everything from reading the environment to the last file is done holding the lock
    # SIGTERM and SIGHUP roll back as Ctrl-C does: main turns them into an interrupt.
    with prefix_lock(prefix, wait=not args.no_wait, on_wait=output.say):
        recovered = recover(prefix)
        if recovered is not None:
            output.say(_recovered(prefix, recovered))
        elif args.recover:
            output.say(f"nothing to recover in {prefix}")
        if not args.targets:
            return 0
        return _locked(args, prefix, wheels, requirements, index)


def _recovered(prefix: Path, recovery: Recovery) -> str:
    who = f" (pid {recovery.pid})" if recovery.pid else ""
    if recovery.committed:
        return f"finished cleaning up after a completed installation{who} into {prefix}"
    return (
        f"rolled back an interrupted installation{who} into {prefix}: "
        f"{recovery.undone} step(s) undone, the environment is as it was before it"
    )


def _locked(
    args: argparse.Namespace,
    prefix: Path,
    wheels: list[Path],
    requirements: list[str],
    index: IndexOptions | None,
) -> int:
    from condawheel.installation.core import InstallOptions
    from condawheel.installation.environment import CondaEnvironment
    from condawheel.installation.resolve import resolve
    from condawheel.installation.transaction import STATE_DIR

    environment = CondaEnvironment.open(prefix)
    options = InstallOptions(no_deps=args.no_deps, break_system_packages=args.break_system_packages)
    if index is None:
        return _install(args, environment, wheels, options, None)
    # downloads wait in the prefix's own folder (the same file system; a killed run's
    # leftovers are cleared by the next, which holds the lock), never in /tmp
    work = prefix / STATE_DIR / "download"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        resolution = resolve(
            requirements,
            wheels,
            environment,
            index,
            work,
            upgrade=args.upgrade,
            no_deps=args.no_deps,
        )
        return _install(args, environment, resolution.wheels, options, resolution)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _index_options(args: argparse.Namespace, requirements: Sequence[str]) -> IndexOptions | None:
    from condawheel.installation.download import IndexOptions, check_index_url

    if args.index_url is None:
        if requirements:
            raise BadInputError(
                f"{requirements[0]!r} is not a wheel file: to install it by name from an index, "
                "give --index-url URL (or give the path of a .whl file)"
            )
        if args.extra_index_url or args.upgrade:
            option = "--extra-index-url" if args.extra_index_url else "--upgrade"
            raise BadInputError(f"{option} is for installing from an index: give --index-url URL")
        return None
    return IndexOptions(
        index_url=check_index_url(args.index_url),
        extra_index_urls=tuple(
            check_index_url(url, "--extra-index-url") for url in args.extra_index_url
        ),
    )


def _install(
    args: argparse.Namespace,
    environment: CondaEnvironment,
    wheels: Sequence[Path],
    options: InstallOptions,
    resolution: Resolution | None,
) -> int:
    from condawheel.installation.core import install, plan_install

    if resolution is not None and not resolution.wheels:
        # everything asked for is installed already, as pip says it
        if args.json:
            output.json_document(nothing_json(environment, resolution, args.dry_run))
        else:
            print_satisfied(resolution.satisfied)
        return 0
    plan = plan_install(wheels, environment, options)
    result = None
    if not args.dry_run and not plan.problems:
        result = install(plan)
    if args.json:
        output.json_document(plan_json(plan, result, dry_run=args.dry_run, resolution=resolution))
    else:
        if resolution is not None:
            print_satisfied(resolution.satisfied)
        if args.dry_run:
            print_plan(plan)
        elif result is not None:
            print_installed(plan, result, resolution)
    if plan.problems:
        raise plan.error()
    return 0
