"""A small conda-tagged wheel for the publish and index tests, valid unless told otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import wheelmaker

NAME = "demo-1.0-3_abc-cp312-cp312-conda_linux_2_17_x86_64.whl"
DIST_INFO = "demo-1.0.dist-info"
METADATA = "metadata-version: 2.4\nname: demo\nversion: 1.0\n"
WHEEL = (
    "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
    "Tag: cp312-cp312-conda_linux_2_17_x86_64\nBuild: 3_abc\n"
)


def write_wheel(
    path: Path,
    members: Mapping[str, bytes | str] | None = None,
    *,
    record: str | None = None,
    unlisted: Mapping[str, bytes] | None = None,
) -> Path:
    """A wheel of ``members`` (default: a valid one) with a correct RECORD, unless
    ``record`` replaces it; ``unlisted`` members are left out of the RECORD."""
    files = {
        "demo/__init__.py": "ANSWER = 42\n",
        f"{DIST_INFO}/METADATA": METADATA,
        f"{DIST_INFO}/WHEEL": WHEEL,
        **(members or {}),
    }
    data = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
    if record is not None:
        data[f"{DIST_INFO}/RECORD"] = record.encode()
    return wheelmaker.write_wheel(
        path,
        {**data, **(unlisted or {})},
        record=record is None,
        rows=dict.fromkeys(unlisted or {}, ""),
    )
