"""`condawheel publish`: conda-tagged wheels to your own package index."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condawheel.cli import output
from condawheel.config import load_config
from condawheel.exceptions import ConfigurationError, NothingToDoError

if TYPE_CHECKING:  # twine and requests are imported when the command runs, not for --help
    from condawheel.publishing.core import PublishResult

_HELP = """\
Upload wheels to a package index with twine: pypiserver, devpi, Nexus, Artifactory,
GitLab, or anything that takes `twine upload`. Never PyPI: it refuses the private
conda_* platform tags.

Before anything is uploaded, each wheel is checked (RECORD hashes and sizes, one
.dist-info, METADATA valid, WHEEL tags matching the file name, a description that
renders, as `twine check` does), and the index's simple API is asked what it holds
already. A file of the same name that is identical is skipped (exit 0), a different
one is refused (exit 2): a published file is never replaced. So a publish that failed
half-way can simply be run again. Only a server that keeps what it received of a broken
upload (pypiserver does) needs a hand: condawheel recognises the incomplete copy and
says which file to delete there.

The simple API is taken to be <repository URL>/simple/ (with a trailing /legacy/
replaced), which fits pypiserver, Nexus, Artifactory and GitLab; give --index-url for
others (devpi: https://host/USER/INDEX/+simple/).

Credentials, first found wins: --username/--password; CONDAWHEEL_USERNAME and
CONDAWHEEL_PASSWORD, then TWINE_USERNAME and TWINE_PASSWORD; user:password@ in the
URL; keyring, under the repository URL (`keyring set URL USER`); a password prompt on a
terminal. With no user at all, the upload is anonymous. The URL may also come from
CONDAWHEEL_REPOSITORY_URL or TWINE_REPOSITORY_URL, and --index-url from
CONDAWHEEL_INDEX_URL.

examples:
  condawheel publish dist/*.whl --repository-url https://pypi.internal.example/
  condawheel publish dist/ --repository-url https://devpi.example/ci/prod/ \\
      --index-url https://devpi.example/ci/prod/+simple/ --json
  CONDAWHEEL_PASSWORD=... condawheel publish dist/*.whl -u ci --repository-url http://127.0.0.1:8080/
"""


def configure_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "publish",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "wheels", nargs="+", type=Path, metavar="WHEEL", help="wheel files, or folders of them"
    )
    parser.add_argument(
        "--repository-url",
        metavar="URL",
        help="the index's upload URL (default: $CONDAWHEEL_REPOSITORY_URL, "
        "$TWINE_REPOSITORY_URL, or repository-url in [tool.condawheel])",
    )
    parser.add_argument(
        "--index-url",
        metavar="URL",
        help="the index's simple API, to see what it holds (default: <repository URL>/simple/)",
    )
    parser.add_argument("-u", "--username", metavar="USER", help="the user to upload as")
    parser.add_argument("-p", "--password", metavar="PASSWORD", help="that user's password")
    parser.add_argument(
        "--non-interactive", action="store_true", help="never prompt for a password"
    )
    parser.add_argument(
        "--no-keyring", action="store_true", help="do not look credentials up in keyring"
    )
    parser.add_argument(
        "--cert", type=Path, metavar="PATH", help="CA bundle to verify the index's certificate"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for a connection or an answer (default: 60)",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per wheel on stdout, one per line"
    )
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from condawheel.cli.progress import progress_bar
    from condawheel.publishing.core import publish
    from condawheel.publishing.target import PublishOptions

    config = load_config(Path.cwd())
    repository_url = (
        args.repository_url
        or _env("CONDAWHEEL_REPOSITORY_URL", "TWINE_REPOSITORY_URL")
        or config["repository-url"]
    )
    if not repository_url:
        raise ConfigurationError(
            "no repository URL: pass --repository-url URL, set CONDAWHEEL_REPOSITORY_URL, "
            "or repository-url in [tool.condawheel]"
        )
    if args.timeout <= 0:
        raise ConfigurationError(f"--timeout must be positive, not {args.timeout}")
    options = PublishOptions(
        repository_url=repository_url,
        index_url=args.index_url or _env("CONDAWHEEL_INDEX_URL") or config["index-url"] or None,
        username=args.username or _env("CONDAWHEEL_USERNAME", "TWINE_USERNAME"),
        password=args.password or _env("CONDAWHEEL_PASSWORD", "TWINE_PASSWORD"),
        use_keyring=not args.no_keyring,
        cacert=args.cert,
        timeout=args.timeout,
    )
    wheels = _expand(args.wheels)
    if not args.verbose:
        # urllib3 logs each retry, twine each retried HTTP 5xx: several lines per failure,
        # where the error that follows says it in one.
        for name in ("urllib3", "twine"):
            logging.getLogger(name).setLevel(logging.ERROR)
    interactive = not args.non_interactive and sys.stdin.isatty()
    done: list[PublishResult] = []
    total = sum(w.stat().st_size for w in wheels if w.is_file())
    try:
        with progress_bar("publishing", total, enabled=not args.json) as advance:

            def on_result(result: PublishResult) -> None:
                done.append(result)
                advance(sum(r.wheel.stat().st_size for r in done))
                if args.json:
                    output.json_line(result_json(result))

            publish(
                wheels,
                options,
                ask_password=getpass.getpass if interactive else None,
                on_result=on_result,
            )
    finally:
        if not args.json:  # after the bar is gone, what was done, even on a failure
            for result in done:
                output.line(_line(result))
    return 0


def result_json(result: PublishResult) -> dict[str, str]:
    return {
        "wheel": str(result.wheel),
        "url": result.url,
        "status": result.status,
        "sha256": result.sha256,
    }


def _line(result: PublishResult) -> str:
    if result.status == "skipped-identical":
        return f"{result.wheel.name}: already on the index, identical; nothing to do ({result.url})"
    return f"uploaded {result.wheel.name} to {result.url}"


def _env(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def _expand(paths: list[Path]) -> list[Path]:
    wheels: list[Path] = []
    for path in paths:
        wheels.extend(sorted(path.glob("*.whl")) if path.is_dir() else [path])
    if not wheels:
        raise NothingToDoError("no wheels found in " + ", ".join(map(str, paths)))
    return wheels
