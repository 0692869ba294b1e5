"""Reading an existing wheel: name, tags, its one .dist-info, members."""

from __future__ import annotations

from pathlib import Path

import pytest

from condawheel.exceptions import BadInputError
from condawheel.wheel.reader import WheelInput
from wheelmaker import write_wheel


def _wheel(path: Path, members: dict[str, bytes], modes: dict[str, int] | None = None) -> Path:
    """``members`` exactly (no RECORD), one of them with a later time."""
    later = {name: (2024, 1, 2, 3, 4, 6) for name in members if "b" in name}
    return write_wheel(path, members, record=False, modes=modes, dates=later)


GOOD = {
    "foo/__init__.py": b"",
    "foo/b.so": b"\x7fELF",
    "foo-1.0.dist-info/METADATA": b"Name: foo\n",
}


def test_name_tags_and_members(tmp_path: Path) -> None:
    path = _wheel(
        tmp_path / "foo-1.0-1_x-cp312-cp312-manylinux1_x86_64.manylinux_2_5_x86_64.whl",
        GOOD,
        {"foo/b.so": 0o755},
    )
    with WheelInput(path) as wheel:
        assert (wheel.name.name, wheel.name.version, wheel.name.build) == ("foo", "1.0", "1_x")
        assert wheel.name.python == "cp312" and wheel.name.abi == "cp312"
        assert wheel.name.platforms == ["manylinux1_x86_64", "manylinux_2_5_x86_64"]
        assert wheel.dist_info == "foo-1.0.dist-info"
        assert sorted(wheel.names) == sorted(GOOD)
        assert wheel.is_executable("foo/b.so") and not wheel.is_executable("foo/__init__.py")
        assert b"".join(wheel.open("foo/b.so")) == b"\x7fELF"
        with wheel.stream("foo-1.0.dist-info/METADATA") as stream:
            assert stream.read() == b"Name: foo\n"
        assert wheel.date_time() == (2024, 1, 2, 3, 4, 6)


@pytest.mark.parametrize(
    ("filename", "members", "message"),
    [
        ("foo.whl", GOOD, "not a wheel file name"),
        (
            "foo-1.0-py3-none-any.whl",
            {**GOOD, "bar-1.0.dist-info/METADATA": b""},
            "exactly one .dist-info",
        ),
        ("foo-1.0-py3-none-any.whl", {**GOOD, "../evil": b""}, "escapes the wheel"),
    ],
)
def test_bad_wheels(tmp_path: Path, filename: str, members: dict[str, bytes], message: str) -> None:
    path = _wheel(tmp_path / filename, members)
    with pytest.raises(BadInputError, match=message):
        WheelInput(path)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "foo-1.0-py3-none-any.whl"
    path.write_bytes(b"not a zip")
    with pytest.raises(BadInputError, match="not a readable wheel"):
        WheelInput(path)
