"""`condawheel repair` of wheels it has nothing to do with, and the exit codes it gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from clirun import one_line, run_cli
from condawheel.conversion.repair import RepairOptions, repair
from condawheel.exceptions import NothingToDoError
from wheelmaker import make_wheel


@pytest.mark.parametrize("tag", ["py3-none-any", "cp312-cp312-manylinux_2_17_x86_64"])
def test_a_wheel_without_binaries_is_nothing_to_do(tmp_path: Path, tag: str) -> None:
    wheel = make_wheel(tmp_path / "in", "pure", "1.0", tag=tag)
    with pytest.raises(NothingToDoError, match="holds no binaries"):
        repair(wheel, tmp_path / "out", RepairOptions(with_sources=(tmp_path,)))
    assert not (tmp_path / "out").exists()


def test_repair_of_a_pure_wheel_exits_3_even_without_an_environment(tmp_path: Path) -> None:
    """The README: `3` nothing to do, for example `repair` of a wheel without binaries."""
    wheel = make_wheel(tmp_path / "in", "pure", "1.0")
    out = run_cli(tmp_path, "repair", wheel, "-w", tmp_path / "out")
    assert out.returncode == 3, out.stderr
    assert "holds no binaries" in one_line(out.stderr)
    assert not (tmp_path / "out").exists()
