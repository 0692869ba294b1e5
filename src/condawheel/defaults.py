"""Defaults that the command line's help shows, kept apart from the modules that use them
so that ``--help`` imports nothing heavy."""

from __future__ import annotations

#: The folder under a build's output directory that holds its local conda channel.
CHANNEL_DIR = "conda"

#: What a machine of another subdir is assumed to have, as pixi assumes by default; the
#: ``CONDA_OVERRIDE_*`` variables conda reads replace them.
DEFAULT_LINUX = "4.18"
DEFAULT_GLIBC = "2.28"
DEFAULT_MACOS = "13.0"
