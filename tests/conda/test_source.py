"""Reading packages by streaming: the wanted info/ files, then the payload members."""

from __future__ import annotations

import json
import random
import shutil
import tarfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Literal

import pytest

import fuzz_mutants
from builders import CondaPackageBuilder, move_to_end
from condawheel.conda.source import Member, MemberKind, PackageSource, is_conda_package
from condawheel.exceptions import BadInputError

Fmt = Literal["conda", "tar.bz2"]
FORMATS: tuple[Fmt, ...] = ("conda", "tar.bz2")
#: Incompressible, so that the archive is large enough for reads in many chunks.
BLOB = random.Random(1).randbytes(300_000)
LICENSE = b"BSD 3-Clause License\n"
NOTICE = b"vendored library notice\n"


def demo_builder() -> CondaPackageBuilder:
    builder = CondaPackageBuilder(
        name="demo",
        version="1.0",
        build="pyhd8ed1ab_0",
        noarch="python",
        depends=["python >=3.9"],
        license="BSD-3-Clause",
    )
    builder.add_file("site-packages/demo/__init__.py", "VALUE = 1\n")
    builder.add_file("site-packages/demo/blob.bin", BLOB)
    builder.add_file("python-scripts/demo-tool", "#!/bin/sh\necho demo\n", mode=0o755)
    builder.add_symlink("site-packages/demo/alias.py", "__init__.py")
    builder.add_hardlink("site-packages/demo/copy.py", "site-packages/demo/__init__.py")
    builder.add_entry_points(["demo = demo:main"])
    builder.set_run_exports({"weak": ["demo >=1.0"]})
    builder.add_info_file("licenses/LICENSE", LICENSE)
    builder.add_info_file("licenses/vendor/NOTICE", NOTICE)
    builder.add_info_file("recipe/meta.yaml", "package: {name: demo}\n")
    builder.add_info_file("recipe/conda_build_config.yaml", "python: ['3.12']\n")
    builder.add_info_file("test/run_test.py", "import demo\n")
    builder.add_info_file("test/test_time_dependencies.json", "[]")
    builder.add_raw_member("site-packages/demo/empty_dir", type=tarfile.DIRTYPE)
    return builder


def read_members(source: PackageSource) -> list[tuple[Member, bytes | None]]:
    # A member's stream is only readable until the next member is read.
    return [(m, m.stream.read() if m.stream is not None else None) for m in source.members()]


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_info_returns_the_wanted_files(tmp_path: Path, fmt: Fmt) -> None:
    builder = demo_builder()
    info = PackageSource(builder.build(tmp_path, fmt=fmt)).read_info()
    assert sorted(info) == [
        "about.json",
        "files",
        "index.json",
        "licenses/LICENSE",
        "licenses/vendor/NOTICE",
        "link.json",
        "paths.json",
        "run_exports.json",
    ]
    assert json.loads(info["index.json"]) == builder.index_json()
    assert json.loads(info["link.json"]) == {
        "noarch": {"entry_points": ["demo = demo:main"], "type": "python"},
        "package_metadata_version": 1,
    }
    assert json.loads(info["run_exports.json"]) == {"weak": ["demo >=1.0"]}
    assert info["licenses/LICENSE"] == LICENSE
    assert info["licenses/vendor/NOTICE"] == NOTICE
    paths = [p["_path"] for p in json.loads(info["paths.json"])["paths"]]
    assert paths == [
        "python-scripts/demo-tool",
        "site-packages/demo/__init__.py",
        "site-packages/demo/alias.py",
        "site-packages/demo/blob.bin",
        "site-packages/demo/copy.py",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_legacy_license_txt_becomes_a_licence_file(tmp_path: Path, fmt: Fmt) -> None:
    builder = CondaPackageBuilder(name="old", version="1.0", subdir="linux-64")
    builder.add_file("share/old/data", "x")
    builder.add_info_file("LICENSE.txt", "GPL-2.0 text\n")
    builder.add_info_file("has_prefix", "/opt/anaconda1anaconda2anaconda3 text share/old/data\n")
    builder.add_info_file("no_link", "share/old/data\n")
    info = PackageSource(builder.build(tmp_path, fmt=fmt)).read_info()
    assert info["licenses/LICENSE.txt"] == b"GPL-2.0 text\n"
    assert "LICENSE.txt" not in info
    assert info["has_prefix"] == b"/opt/anaconda1anaconda2anaconda3 text share/old/data\n"
    assert info["no_link"] == b"share/old/data\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_members_are_the_payload(tmp_path: Path, fmt: Fmt) -> None:
    source = PackageSource(demo_builder().build(tmp_path, fmt=fmt))
    found = read_members(source)
    summary = [(m.path, m.kind, m.mode, m.size, m.link_target, data) for m, data in found]
    # Archive order; the directory member and every info/ member are left out.
    assert summary == [
        ("python-scripts/demo-tool", MemberKind.FILE, 0o755, 20, None, b"#!/bin/sh\necho demo\n"),
        ("site-packages/demo/__init__.py", MemberKind.FILE, 0o644, 10, None, b"VALUE = 1\n"),
        ("site-packages/demo/alias.py", MemberKind.SYMLINK, 0o777, 0, "__init__.py", None),
        ("site-packages/demo/blob.bin", MemberKind.FILE, 0o644, len(BLOB), None, BLOB),
        (
            "site-packages/demo/copy.py",
            MemberKind.HARDLINK,
            0o644,
            0,
            "site-packages/demo/__init__.py",
            None,
        ),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_memory_stays_flat_in_the_number_of_members(tmp_path: Path, fmt: Fmt) -> None:
    # tarfile keeps every header it reads unless told otherwise: about 500 bytes each.
    builder = demo_builder()
    count = 10_000
    for i in range(count):
        builder.add_file(f"share/many/f{i:05d}.txt", b"x")
    source = PackageSource(builder.build(tmp_path, fmt=fmt))
    source.read_info()
    tracemalloc.start()
    try:
        seen = sum(1 for _ in source.members())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count + 5
    assert peak < 1_000_000, f"{peak} bytes at peak for {count} members"


@pytest.mark.parametrize("fmt", FORMATS)
def test_member_streams_read_in_chunks(tmp_path: Path, fmt: Fmt) -> None:
    source = PackageSource(demo_builder().build(tmp_path, fmt=fmt))
    for member in source.members():
        if member.path == "site-packages/demo/blob.bin":
            assert member.stream is not None
            chunks = []
            while chunk := member.stream.read(65536):
                chunks.append(chunk)
            assert b"".join(chunks) == BLOB
            assert max(len(c) for c in chunks) <= 65536
            break
    else:
        pytest.fail("blob.bin not found")


def passes(positions: list[int]) -> list[list[int]]:
    """Split reported positions into passes: a pass starts again from the start."""
    found: list[list[int]] = []
    for position in positions:
        if not found or position < found[-1][-1]:
            found.append([])
        found[-1].append(position)
    return found


@pytest.mark.parametrize("fmt", FORMATS)
def test_progress_reports_positions_up_to_the_file_size(tmp_path: Path, fmt: Fmt) -> None:
    package = demo_builder().build(tmp_path, fmt=fmt)
    size = package.stat().st_size
    positions: list[int] = []
    source = PackageSource(package, on_read=positions.append)
    source.read_info()
    read_members(source)
    assert len(positions) > 1
    assert all(0 < n <= size for n in positions)
    # The convert progress bar's total is the file size: it must end full.
    assert positions[-1] == size


def test_tar_bz2_with_info_first_is_read_in_one_pass(tmp_path: Path) -> None:
    builder = demo_builder()
    package = builder.build(tmp_path, fmt="tar.bz2")  # info/ members come first
    positions: list[int] = []
    source = PackageSource(package, on_read=positions.append)
    info = source.read_info()
    assert {"index.json", "paths.json"} <= set(info)
    members = read_members(source)
    assert len(members) == 5
    assert len(passes(positions)) == 1
    assert positions[-1] == package.stat().st_size
    assert set(source.info_files) == set(info)


def test_tar_bz2_info_after_the_payload_is_collected(tmp_path: Path) -> None:
    builder = demo_builder()
    package = builder.build(tmp_path, fmt="tar.bz2")
    # Move link.json and the licences behind the payload, as old tools wrote them.
    late = ("info/link.json", "info/licenses/LICENSE", "info/licenses/vendor/NOTICE")
    move_to_end(package, late)

    positions: list[int] = []
    source = PackageSource(package, on_read=positions.append)
    early = source.read_info()
    assert "link.json" not in early
    paths = [m.path for m, _ in read_members(source)]
    assert not any(p.startswith("info") for p in paths)
    assert len(passes(positions)) == 1
    assert (
        source.info_files["link.json"]
        == json.dumps(
            {
                "noarch": {"entry_points": ["demo = demo:main"], "type": "python"},
                "package_metadata_version": 1,
            },
            indent=2,
            sort_keys=True,
        ).encode()
    )
    assert source.info_files["licenses/LICENSE"] == LICENSE
    assert source.info_files["licenses/vendor/NOTICE"] == NOTICE


@pytest.mark.parametrize(("fmt", "late"), [("conda", ()), ("tar.bz2", ("info/link.json",))])
def test_release_info_forgets_the_bytes_of_paths_json(
    tmp_path: Path, fmt: Fmt, late: tuple[str, ...]
) -> None:
    package = demo_builder().build(tmp_path, fmt=fmt)
    if late:
        move_to_end(package, late)
    source = PackageSource(package)
    info = source.read_info()
    assert "paths.json" in info
    source.release_info()
    assert source.info_names == set(info)
    assert source.info_files == {k: v for k, v in info.items() if k != "paths.json"}
    read_members(source)
    # What followed the payload is read, and named with the rest.
    assert source.info_names == set(info) | {"link.json"}
    assert "link.json" in source.info_files


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_large_info_file_is_held_once_while_it_is_read(tmp_path: Path, fmt: Fmt) -> None:
    """paths.json grows with the package: read whole by tarfile it was held three times
    over at once (its blocks, their join and a slice of that)."""
    builder = demo_builder()
    text = random.Random(3).randbytes(6_000_000).hex().encode()  # 12 MB, compressible
    builder.add_info_file("about.json", b'{"description": "%s"}' % text)
    source = PackageSource(builder.build(tmp_path, fmt=fmt))
    tracemalloc.start()
    try:
        info = source.read_info()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = len(info["about.json"])
    assert size > len(text)
    # One copy (a buffer grows by an eighth at a time), and the chunk being read.
    assert peak < 1.25 * size + 4_000_000, f"{peak} bytes at most to read {size}"


def test_conda_reads_each_component_once(tmp_path: Path) -> None:
    package = demo_builder().build(tmp_path, fmt="conda")
    source = PackageSource(package)
    info = source.read_info()
    assert json.loads(info["index.json"])["name"] == "demo"
    assert len(read_members(source)) == 5


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("numpy-1.26.4-py312h8753938_0.conda", True),
        ("numpy-1.26.4-py312h8753938_0.tar.bz2", True),
        ("numpy-1.26.4-py312h8753938_0.tar", False),
        ("numpy-1.26.4-py312h8753938_0.tar.gz", False),
        ("numpy-1.26.4-cp312-cp312-linux_x86_64.whl", False),
        ("numpy-1.26.4.conda.part", False),
        ("conda", False),
    ],
)
def test_is_conda_package(name: str, expected: bool) -> None:
    assert is_conda_package(Path("/somewhere") / name) is expected


def test_not_a_package_name(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    with pytest.raises(BadInputError) as caught:
        PackageSource(wheel)
    assert str(caught.value) == (
        f"{wheel}: not a conda package: expected a file ending in .conda or .tar.bz2"
    )


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "demo-1.0-0.conda"
    with pytest.raises(BadInputError) as caught:
        PackageSource(missing)
    assert str(caught.value) == f"{missing}: no such file"


def test_renamed_conda_still_reads(tmp_path: Path) -> None:
    built = demo_builder().build(tmp_path / "built", fmt="conda")
    renamed = tmp_path / "downloaded.conda"
    shutil.copyfile(built, renamed)
    source = PackageSource(renamed)
    assert source.label == "downloaded.conda"
    assert json.loads(source.read_info()["index.json"])["name"] == "demo"
    assert [m.path for m, _ in read_members(source)] == [
        m.path for m, _ in read_members(PackageSource(built))
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("link", "target", "problem"),
    [
        ("lib/evil", "../../etc/passwd", "escapes the package"),
        ("lib/evil", "./../x/../../etc", "escapes the package"),
        ("evil", "..", "escapes the package"),
        ("lib/evil", "..\\..\\windows", "escapes the package"),
        ("lib/evil", "/etc/passwd", "points to absolute path '/etc/passwd'"),
    ],
)
def test_escaping_symlink(tmp_path: Path, fmt: Fmt, link: str, target: str, problem: str) -> None:
    builder = CondaPackageBuilder(name="evil", version="1.0")
    builder.add_file("lib/ok.txt", "ok\n")
    builder.add_symlink(link, target)
    source = PackageSource(builder.build(tmp_path, fmt=fmt))
    with pytest.raises(BadInputError) as caught:
        read_members(source)
    message = str(caught.value)
    assert message.startswith(f"{source.label}: symlink {link!r}")
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize("fmt", FORMATS)
def test_symlinks_that_stay_inside_are_fine(tmp_path: Path, fmt: Fmt) -> None:
    builder = CondaPackageBuilder(name="fine", version="1.0")
    builder.add_file("share/fine/data.txt", "x")
    builder.add_symlink("bin/data", "../share/fine/data.txt")
    builder.add_symlink("lib/here", "./../lib/../share/fine")
    source = PackageSource(builder.build(tmp_path, fmt=fmt))
    links = {m.path: m.link_target for m, _ in read_members(source) if m.kind is MemberKind.SYMLINK}
    assert links == {"bin/data": "../share/fine/data.txt", "lib/here": "./../lib/../share/fine"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_escaping_hardlink(tmp_path: Path, fmt: Fmt) -> None:
    builder = CondaPackageBuilder(name="evil", version="1.0")
    builder.add_raw_member("lib/evil", type=tarfile.LNKTYPE, linkname="../../etc/shadow")
    source = PackageSource(builder.build(tmp_path, fmt=fmt))
    with pytest.raises(BadInputError) as caught:
        read_members(source)
    assert str(caught.value) == (
        f"{source.label}: hard link 'lib/evil' -> '../../etc/shadow' points outside the "
        "package; do not use this package: rebuild it from a trusted recipe"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_escaping_member_path(tmp_path: Path, fmt: Fmt) -> None:
    builder = CondaPackageBuilder(name="evil", version="1.0")
    builder.add_raw_member("../outside.txt", "boo")
    source = PackageSource(builder.build(tmp_path, fmt=fmt))
    with pytest.raises(BadInputError, match="escapes the package"):
        read_members(source)


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_archive(tmp_path: Path, fmt: Fmt) -> None:
    package = demo_builder().build(tmp_path, fmt=fmt)
    data = package.read_bytes()
    package.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError) as caught:
        source = PackageSource(package)
        source.read_info()
        read_members(source)
    message = str(caught.value)
    assert message.startswith(f"{package.name}: not a readable conda package")
    assert message.endswith("download or build it again")
    assert "\n" not in message


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
@pytest.mark.parametrize("component", ["info", "pkg"])
def test_a_declared_size_beyond_the_stream_is_found_quickly(
    tmp_path: Path, fmt: Literal["conda", "tar.bz2"], component: str
) -> None:
    """A PAX size of 10**18 on a small member: tarfile would decompress forward to
    the declared end, for years; the real end of the stream comes first."""
    builder = CondaPackageBuilder(name="liar", version="1.0", build="0")
    builder.add_file("share/liar/a.txt", "a\n")
    parts = fuzz_mutants.parts_of(builder.build(tmp_path / "in", fmt))
    liar, data = fuzz_mutants.member(
        f"{'info' if component == 'info' else 'share'}/liar.bin", b"tiny"
    )
    liar.pax_headers = {"size": str(10**18)}
    if component == "info":
        parts = replace(parts, info=(*parts.info, (liar, data)))
    else:
        parts = replace(parts, pkg=(*parts.pkg, (liar, data)))
    package = tmp_path / parts.filename
    package.write_bytes(parts.build())
    started = time.monotonic()
    with pytest.raises(BadInputError, match=r"more than the archive holds|unexpected end"):
        source = PackageSource(package)
        source.read_info()
        for item in source.members():
            if item.stream is not None:
                item.stream.read()
    assert time.monotonic() - started < 5
