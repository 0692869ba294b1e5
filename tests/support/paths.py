"""Where the test data lives: the repository, its test helpers, and the corpus beside it."""

from __future__ import annotations

from pathlib import Path

#: The checkout's root folder.
REPO = Path(__file__).resolve().parents[2]
#: tests/support, where the helpers live (stand-in scripts put it on their sys.path).
SUPPORT = Path(__file__).resolve().parent
#: The shared corpus of real conda packages, beside the checkout (never copied into it).
CORPUS = REPO.parent / "shared" / "corpus"
