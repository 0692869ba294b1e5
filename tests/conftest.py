"""Shared fixtures: where the shared corpus lives, and a builder factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from paths import CORPUS


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests decide timestamps themselves; a CI variable must not change them.
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # condawheel's cache (a name mapping cached by `condawheel mapping update`, downloads)
    # is the test run's own, never the user's.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(autouse=True)
def _no_publish_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials and URLs of whoever runs the tests must not reach `publish`.
    for tool in ("CONDAWHEEL", "TWINE"):
        for name in ("USERNAME", "PASSWORD", "REPOSITORY_URL"):
            monkeypatch.delenv(f"{tool}_{name}", raising=False)
    monkeypatch.delenv("CONDAWHEEL_INDEX_URL", raising=False)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected it at {CORPUS}")
    return CORPUS
