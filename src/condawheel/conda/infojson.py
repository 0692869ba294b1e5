"""Reading `info/*.json` and checking index.json against conda's grammar.

Whatever index.json says reaches file names, METADATA and the wheel's name, so it is
checked before anything uses it: the name and build string as conda (CEP 26) allows
them, the version as a conda version, the build number as a small non-negative
integer. JSON is read with bounds on nesting and on the digits of an integer, so a
hostile document is a clear error rather than a RecursionError or a ValueError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import rattler

from condawheel.exceptions import BadInputError
from condawheel.quoting import quote

#: Deeper than any real `info/` document, far shallower than the recursion limit.
MAX_DEPTH = 64
#: Integers in `info/` are sizes, counts and timestamps.
_MAX_INT_DIGITS = 20
_NAME = re.compile(r"[a-z0-9_][a-z0-9_.-]*")
_BUILD = re.compile(r"[A-Za-z0-9_.+]+")
_VERSION = re.compile(r"[A-Za-z0-9_.+!]+")
#: Bounds that keep `name-version-build` and the wheel name under 255 bytes.
_MAX_NAME = 128
_MAX_BUILD = 64
_MAX_VERSION = 64
_MAX_BUILD_NUMBER = 10**9
DAMAGED = "the package is damaged; download or build it again"
MALFORMED = "the package is malformed; rebuild it with conda-build or rattler-build"


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def _constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def loads(raw: bytes, *, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """``json.loads`` with bounded integers and nesting. Raises ValueError.

    ``object_hook`` turns each object into what it returns, as it is parsed."""
    try:
        # conda writes UTF-8; json.loads would guess UTF-16 or -32 from the first bytes.
        data = json.loads(
            raw.decode("utf-8"),
            parse_int=_bounded_int,
            parse_constant=_constant,
            object_hook=object_hook,
        )
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    _check_depth(data)
    return data


def _check_depth(data: Any) -> None:
    level = [data]
    for _ in range(MAX_DEPTH + 1):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return
    raise ValueError(f"nested deeper than {MAX_DEPTH} levels")


def json_object(
    filename: str,
    name: str,
    raw: bytes,
    *,
    object_hook: Callable[[dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """``raw`` as the JSON object `info/{name}` must be; BadInputError otherwise.
    ``object_hook`` may turn the objects inside it into something else."""
    try:
        data = loads(raw, object_hook=object_hook)
    except ValueError as exc:  # also JSONDecodeError and UnicodeDecodeError
        raise BadInputError(
            f"{filename}: info/{name} is not valid JSON ({quote(str(exc), 100)[1:-1]}): " + DAMAGED
        ) from None
    if not isinstance(data, dict):
        raise BadInputError(f"{filename}: info/{name} is not a JSON object: {DAMAGED}")
    return data


def check_index(filename: str, index: Mapping[str, Any]) -> None:
    """Raise BadInputError naming the first field of index.json conda would refuse."""
    for key, pattern, limit, what in (
        ("name", _NAME, _MAX_NAME, "lowercase letters, digits, '_', '.' and '-'"),
        ("build", _BUILD, _MAX_BUILD, "letters, digits, '_', '.' and '+' (no '-')"),
        ("version", _VERSION, _MAX_VERSION, "a conda version"),
    ):
        value = index.get(key)
        if key == "build" and value is None:
            continue
        if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > limit:
            raise BadInputError(
                f"{filename}: index.json {key} {quote(value)} is not valid: conda allows "
                f"{what}, at most {limit} characters; {MALFORMED}"
            )
    try:
        rattler.Version(index["version"])
    except Exception:  # rattler's InvalidVersionError
        raise BadInputError(
            f"{filename}: index.json version {quote(index['version'])} is not a conda "
            f"version; {MALFORMED}"
        ) from None
    build_number = index.get("build_number", 0)
    if (
        isinstance(build_number, bool)
        or not isinstance(build_number, int)
        or not 0 <= build_number < _MAX_BUILD_NUMBER
    ):
        raise BadInputError(
            f"{filename}: index.json build_number {quote(build_number)} is not a "
            f"non-negative integer below {_MAX_BUILD_NUMBER}; {MALFORMED}"
        )
