"""Defaults that the command line's help shows, kept apart from the modules that use them
so that ``--help`` imports nothing heavy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The folder under a build's output directory that holds its local conda channel.
CHANNEL_DIR = "conda"

#: What a machine of another subdir is assumed to have, as pixi assumes by default; the
#: ``CONDA_OVERRIDE_*`` variables conda reads replace them.
DEFAULT_LINUX = "4.18"
DEFAULT_GLIBC = "2.28"
DEFAULT_MACOS = "13.0"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/condawheel`` (else ``~/.cache/condawheel``); on macOS
    ``~/Library/Caches/condawheel``, on Windows ``%LOCALAPPDATA%\\condawheel\\Cache``."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / "condawheel" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "condawheel"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is to be ignored.
    return (Path(xdg) if Path(xdg).is_absolute() else Path.home() / ".cache") / "condawheel"
