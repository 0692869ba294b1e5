"""Seeded mutants of a valid wheel through `plan_install`: each ends in a plan or in
condawheel's own error of one short line, never in another exception.

Two kinds: bytes of the zip flipped, cut or zeroed (what a damaged download looks like),
and the `.dist-info` files (METADATA, WHEEL, entry_points.txt, conda/prefix.json,
conda/index.json) edited with hostile tokens inside a wheel whose RECORD is true, so
that the mutant reaches the parsers. ``CONDAWHEEL_FUZZ_COUNT`` runs more on demand.
"""

from __future__ import annotations

import os
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from condaenv import make_env
from condawheel.exceptions import CondawheelError
from condawheel.installation.core import plan_install
from condawheel.installation.environment import CondaEnvironment
from wheelmaker import wheel_members, write_wheel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the test environments are linux")

COUNT = int(os.environ.get("CONDAWHEEL_FUZZ_COUNT", "200"))
TOKENS = [
    b"\n", b"\r", b"\xff", b"\x00", b"[", b"]", b"{", b"}", b'"', b"..", b"/", b":", b"=",
    b";", b"(", b")", b" ", b"\\", b"%", b"9" * 5000, b"[" * 3000, b"\xed\xa0\x80",
]  # fmt: skip
PREFIX_JSON = (
    '{"version": 1, "files": [{"path": "good-1.0.data/data/share/good.txt", '
    '"placeholder": "/opt/placeholder", "mode": "text"}]}'
)


def _members() -> dict[str, bytes]:
    return wheel_members(
        "good",
        "1.0",
        {"good/__init__.py": "X = 1\n" * 20, "good-1.0.data/data/share/good.txt": "data\n"},
        metadata="Metadata-Version: 2.1\nName: good\nVersion: 1.0\nRequires-Python: >=3.8\n"
        "Requires-Dist: foo>=1; python_version > '3'\nRequires-External: libfoo (>=1)\n",
        dist_info_files={
            "entry_points.txt": "[console_scripts]\ngood = good:main\n[gui_scripts]\ng = good:m\n",
            "conda/prefix.json": PREFIX_JSON,
            "conda/index.json": '{"name": "libgood", "version": "1.0", "build": "0"}',
        },
    )


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> CondaEnvironment:
    return CondaEnvironment.open(make_env(tmp_path_factory.mktemp("fuzz")), environ={})


def _run(
    environment: CondaEnvironment, wheel: Path, mutants: Callable[[random.Random], bytes]
) -> Counter[str]:
    rng = random.Random(20261203)
    outcomes: Counter[str] = Counter()
    for _ in range(COUNT):
        wheel.write_bytes(mutants(rng))
        try:
            plan_install([wheel], environment)
            outcomes["planned"] += 1
        except CondawheelError as exc:
            message = str(exc)
            assert "\n" not in message and len(message) < 600, message[:600]
            assert message.startswith(wheel.name), message
            outcomes["refused"] += 1
    return outcomes


def test_damaged_zips(environment: CondaEnvironment, tmp_path: Path) -> None:
    valid = write_wheel(tmp_path / "good-1.0-py3-none-any.whl", _members()).read_bytes()

    def mutant(rng: random.Random) -> bytes:
        data = bytearray(valid)
        kind = rng.choice(["flip", "cut", "zero"])
        if kind == "flip":
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == "cut":
            del data[rng.randrange(len(data)) :]
        else:
            start = rng.randrange(len(data))
            data[start : start + 64] = bytes(len(data[start : start + 64]))
        return bytes(data)

    outcomes = _run(environment, tmp_path / "good-1.0-py3-none-any.whl", mutant)
    assert outcomes["refused"] > COUNT // 2, outcomes


def test_hostile_metadata_with_a_true_record(environment: CondaEnvironment, tmp_path: Path) -> None:
    members = _members()
    targets = sorted(m for m in members if ".dist-info/" in m)
    scratch = tmp_path / "scratch" / "good-1.0-py3-none-any.whl"

    def mutant(rng: random.Random) -> bytes:
        edited = dict(members)
        target = rng.choice(targets)
        data = bytearray(edited[target])
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data) + 1)
            choice = rng.random()
            if choice < 0.5:
                data[at:at] = rng.choice(TOKENS)
            elif data:
                del data[at : at + rng.randint(1, 10)]
        edited[target] = bytes(data)
        return write_wheel(scratch, edited).read_bytes()

    outcomes = _run(environment, tmp_path / "good-1.0-py3-none-any.whl", mutant)
    assert outcomes["refused"] > 0 and outcomes["planned"] > 0, outcomes
