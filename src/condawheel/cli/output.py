"""How the command line speaks: the one place that formats its error lines, warnings and
JSON. Standard library only, so that `--help` and a usage error stay quick to answer."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

PROGRAM = "condawheel"

#: The format of the lines logging writes (-v), the same prefix as every other line.
LOG_FORMAT = f"{PROGRAM}: %(message)s"


def say(message: str) -> None:
    """A line about what the command is doing (waiting, recovering), on stderr."""
    _stderr(f"{PROGRAM}: {message}")


def error(message: str) -> None:
    """The one line a failure gets, on stderr."""
    _stderr(f"{PROGRAM}: error: {message}")


def warning(subject: str, message: str) -> None:
    """A warning about one input or output (a package, a wheel), on stderr."""
    _stderr(f"{PROGRAM}: warning: {subject}: {message}")


def interrupted(reason: str) -> None:
    """Ctrl-C, SIGTERM or SIGHUP; the reason may be empty."""
    _stderr(f"{PROGRAM}: interrupted {reason}".rstrip())


def internal_error(exc: BaseException) -> None:
    """A bug: one line, and how to get the rest."""
    _stderr(
        f"{PROGRAM}: internal error: {type(exc).__name__}: {exc} "
        "(rerun with -v for the traceback, and please report it)"
    )


def log_tail(lines: Iterable[str]) -> None:
    """The last lines of a failed tool's log, indented under the error that follows."""
    _stderr("\n".join(f"  | {text}" for text in lines))


def note(message: str) -> None:
    """A plain line beside the result (what repair removed, its notes), on stderr."""
    _stderr(message)


def line(text: str) -> None:
    """A line of the human-readable result, on stdout."""
    print(text)


def text(document: str) -> None:
    """A document that is the result as it is (a generated file), on stdout."""
    sys.stdout.write(document)


def labelled(label: str, message: str) -> str:
    """A note or warning inside a report about one input, indented under it."""
    return f"  {label}: {message}"


def json_line(obj: Any) -> None:
    """One JSON object per line (JSON Lines), flushed so a reader sees each at once."""
    print(json.dumps(obj, sort_keys=True), flush=True)


def json_document(obj: Any) -> None:
    """One indented JSON document: the whole result of a command."""
    print(json.dumps(obj, indent=2, sort_keys=True))


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
