"""rattler-build's failures in one line: what went wrong in which recipe, and the fix.

py-rattler-build reports a missing variant as ``Render error: Parse(JinjaError { ... })``
and an unreachable channel as a bare ``Failed to resolve dependencies``, naming neither
the variable nor the channel. The first is read back from the message (the template and
its line); the second is told apart from an unsatisfiable requirement by asking each
remote channel for its index, as the solver would have.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from condawheel.conda import coroutines as rattler_run

_PREFIX = re.compile(r"^(?:Py)?RattlerBuildError:\s*")
_UNDEFINED = re.compile(r"undefined value.*?\(template: (?P<template>.*?)\)\"?,", re.S)
_LINE = re.compile(r"line: (?P<line>\d+)")
_EXPRESSION = re.compile(r"\$\{\{(?P<body>.*?)\}\}")
_NAME = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*)(?![\w'\"(])")
_NOT_VARIABLES = frozenset(
    {"and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False"}
)
#: Names the recipe's templates always have: rattler-build's context functions and values.
_CONTEXT = frozenset(
    {"target_platform", "build_platform", "host_platform", "unix", "linux", "osx", "win"}
)


def explain(
    message: str,
    *,
    recipe: Path,
    channels: Sequence[str],
    variant_keys: Iterable[str] = (),
    log: Sequence[str] = (),
) -> str:
    """One line for rattler-build's error ``message`` about ``recipe``."""
    text = _PREFIX.sub("", message.strip())
    if "undefined value" in text:
        return _undefined(text, recipe, set(variant_keys))
    if "Failed to resolve dependencies" in text:
        return _unresolved(recipe, channels, _specs(log))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{recipe} failed to build: {lines[-1] if lines else 'rattler-build failed'}"


def _undefined(text: str, recipe: Path, known: set[str]) -> str:
    found = _UNDEFINED.search(text)
    template = found["template"].strip() if found else ""
    at = _LINE.search(text)
    where = f"{recipe} failed to build: line {at['line']}" if at else f"{recipe} failed to build"
    names = [
        name
        for body in _EXPRESSION.findall(template)
        for name in _NAME.findall(body)
        if name not in _NOT_VARIABLES and name not in _CONTEXT and name not in known
    ]
    unique = list(dict.fromkeys(names))
    if not unique:
        return f"{where}: an undefined value in {template or 'a template'}"
    name = unique[0]
    return (
        f"{where}: {template} uses {name}, which is not defined; set it with "
        f"--variant {name}=VALUE or in variants.yaml beside the recipe"
    )


def _specs(log: Sequence[str]) -> list[str]:
    """The ``Specs:`` rattler-build logged before the failed solve."""
    specs: list[str] = []
    for line in reversed(log):
        stripped = line.strip()
        if stripped == "Specs:":
            break
        if stripped.startswith("- "):
            specs.insert(0, stripped[2:])
        elif specs:
            specs.clear()
    return specs


def _unresolved(recipe: Path, channels: Sequence[str], specs: Sequence[str]) -> str:
    for channel in channels:
        problem = _unreachable(channel)
        if problem is not None:
            return (
                f"{recipe} failed to build: cannot reach channel {channel} ({problem}); "
                "check the network, or build offline from local channels with "
                "-c file:///path/to/channel"
            )
    what = ", ".join(specs) if specs else "the recipe's requirements"
    return (
        f"{recipe} failed to build: no packages satisfy {what} in {', '.join(channels)}; "
        "check the recipe's requirements, or add the channel that has them with -c"
    )


def _unreachable(channel: str) -> str | None:
    """Why ``channel``'s index cannot be read, or None when it can (a local channel too)."""
    from rattler import Channel, Gateway
    from rattler.exceptions import FetchRepoDataError, GatewayError

    if channel.startswith("file:") or Path(channel).is_dir():
        return None
    with tempfile.TemporaryDirectory(prefix="condawheel-probe-") as cache:
        try:
            rattler_run.run(
                Gateway(cache_dir=Path(cache)).query([Channel(channel)], ["noarch"], ["python"])
            )
        except (GatewayError, FetchRepoDataError, OSError) as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            return lines[0] if lines else type(exc).__name__
    return None
