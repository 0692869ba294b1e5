"""Hostile text in messages: quoted short and escaped, so an error stays one line."""

from __future__ import annotations

#: Characters of a quoted value kept in a message.
_EXCERPT = 60
#: A message line is cut to this many characters, keeping its start and its advice.
_LINE = 480


def quote(value: object, limit: int = _EXCERPT) -> str:
    """``repr``-style quoting of at most ``limit`` characters of ``value``, escaped:
    no newline, control or surrogate character reaches the terminal."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        return repr(text[: limit - 10]) + f"... ({len(text)} characters)"
    return repr(text)


def one_line(message: str, limit: int = _LINE) -> str:
    """``message`` on one line of at most ``limit`` characters: control characters
    escaped, and the middle cut from an overlong one, since its start names the input
    and its end says what to do."""
    text = "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in message)
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head - 5
    return f"{text[:head]} ... {text[-tail:]}"
