"""Shared fixtures: where the shared corpus lives, and a builder factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from paths import CORPUS


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests decide timestamps themselves; a CI variable must not change them.
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected it at {CORPUS}")
    return CORPUS
