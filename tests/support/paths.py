"""Where the test data lives: the repository, its test helpers, and the corpus beside it."""

from __future__ import annotations

from pathlib import Path

#: The checkout's root folder.
REPO = Path(__file__).resolve().parents[2]
#: tests/support, where the helpers live (stand-in scripts put it on their sys.path).
SUPPORT = Path(__file__).resolve().parent
#: The shared corpus of real conda packages, beside the checkout (never copied into it).
CORPUS = REPO.parent / "shared" / "corpus"


def machine_library(name: str) -> Path:
    """This machine's own copy of system library ``name`` (``libstdc++.so.6``), links
    resolved: what a wheel's binaries would load without a bundled copy."""
    folders = (Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib64"), Path("/usr/lib"))
    return next((folder / name).resolve() for folder in folders if (folder / name).is_file())
