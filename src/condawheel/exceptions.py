"""Errors raised by condawheel; each carries the exit code the CLI uses."""

from __future__ import annotations


class CondawheelError(Exception):
    """Base class: a one-line message meant for the user, and an exit code."""

    exit_code = 1


class BadInputError(CondawheelError):
    """The input package, wheel or option is wrong; the user can fix it."""

    exit_code = 2


class ConfigurationError(BadInputError):
    """`[tool.condawheel]` or a command-line option is wrong."""


class NothingToDoError(CondawheelError):
    """The command had nothing to act on."""

    exit_code = 3
