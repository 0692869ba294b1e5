"""Folders of packages: one build in two formats, and a broken package among good ones."""

from __future__ import annotations

import bz2
import io
import json
import tarfile
from pathlib import Path

from builders import CondaPackageBuilder
from clirun import one_line, run_cli


def _builder(name: str = "twofold") -> CondaPackageBuilder:
    builder = CondaPackageBuilder(name=name, version="1.0", build="py312h0_0", license="MIT")
    site = "lib/python3.12/site-packages"
    builder.add_file(f"{site}/{name}/__init__.py", "X = 1\n")
    builder.add_file(f"{site}/{name}/b.py", "B = 2\n")
    builder.add_file("share/twofold/z.txt", "z\n")
    builder.add_file("etc/twofold/a.conf", "a\n")
    builder.add_symlink("share/twofold/link.txt", "z.txt")
    return builder


def _payload_reversed(package: Path) -> Path:
    """The `.tar.bz2` with its payload members in the opposite order, as another tool
    might have written them."""
    with tarfile.open(package, "r:bz2") as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]
    info = [m for m in members if m[0].name.startswith("info/")]
    payload = [m for m in members if not m[0].name.startswith("info/")]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as out:
        for member, data in [*info, *reversed(payload)]:
            out.addfile(member, io.BytesIO(data) if member.isfile() else None)
    package.write_bytes(bz2.compress(buffer.getvalue()))
    return package


def test_same_build_gives_the_same_wheel_from_either_format(tmp_path: Path) -> None:
    conda = _builder().build(tmp_path / "a", "conda")
    tarbz2 = _payload_reversed(_builder().build(tmp_path / "b", "tar.bz2"))
    wheels = []
    for package, out in ((conda, tmp_path / "out-a"), (tarbz2, tmp_path / "out-b")):
        result = run_cli(tmp_path, "convert", package, "-w", out)
        assert result.returncode == 0, result.stderr
        wheels.append(Path(result.stdout.strip()))
    assert wheels[0].name == wheels[1].name
    assert wheels[0].read_bytes() == wheels[1].read_bytes()


def test_folder_with_both_formats_converts_each_build_once(tmp_path: Path) -> None:
    channel = tmp_path / "channel" / "linux-64"
    _builder().build(channel, "conda")
    tarbz2 = _builder().build(channel, "tar.bz2")
    _builder("other").build(channel, "tar.bz2")
    out = tmp_path / "out"
    result = run_cli(tmp_path, "convert", tmp_path / "channel", "-w", out)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 2
    assert sorted(p.name.split("-")[0] for p in out.iterdir()) == ["other", "twofold"]
    note = one_line(result.stderr)
    assert f"{tarbz2} skipped" in note and "twofold-1.0-py312h0_0.conda" in note
    assert ".conda is preferred" in note


def _broken_and_good(folder: Path) -> tuple[Path, Path]:
    good = _builder("good").build(folder, "conda")
    broken = folder / "broken-1.0-0.conda"
    broken.write_bytes(good.read_bytes()[:200])
    return broken, good


def test_inspect_folder_goes_on_past_a_broken_package(tmp_path: Path) -> None:
    broken, good = _broken_and_good(tmp_path / "pkgs")
    result = run_cli(tmp_path, "inspect", tmp_path / "pkgs")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("condawheel: error: ") and broken.name in line
    assert str(good) in result.stdout and "good-1.0-" in result.stdout


def test_inspect_folder_json_is_one_object_per_line(tmp_path: Path) -> None:
    broken, good = _broken_and_good(tmp_path / "pkgs")
    (tmp_path / "pkgs" / "more").mkdir()
    _builder("more").build(tmp_path / "pkgs" / "more", "tar.bz2")
    result = run_cli(tmp_path, "inspect", tmp_path / "pkgs", "--json")
    assert result.returncode == 2
    assert result.stderr == ""
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(o["input"]).name for o in objects] == [
        broken.name,
        good.name,
        "more-1.0-py312h0_0.tar.bz2",
    ]
    assert objects[0]["exit_code"] == 2 and "not a readable conda package" in objects[0]["error"]
    assert objects[1]["wheel"].startswith("good-1.0-") and "error" not in objects[1]
