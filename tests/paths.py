"""Where the test data lives outside the repository."""

from __future__ import annotations

from pathlib import Path

#: The shared corpus of real conda packages, beside the checkout (never copied into it).
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
