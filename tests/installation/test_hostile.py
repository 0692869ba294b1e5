"""`condawheel install` fed hostile wheels: each is refused before anything changes.

Every case asserts exit code 2, an error naming the wheel (and the member, where one is
at fault) with no traceback, the prefix and a sibling folder byte-identical afterwards,
and no `condawheel` folder left in the temporary directory. The wheels are built in
code, member by member (tests/support/wheelmaker.py), so that each breaks one rule.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import condawheel.installation.paths
from condaenv import PY, make_env, site_packages, snapshot
from condawheel.cli.main import main
from wheelmaker import wheel_members, write_wheel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the test environments are linux")

OWNER = {
    "name": "owner-pkg",
    "version": "1.0",
    "build": "h0_0",
    "files": ["lib/libowned.so", "share/owned/data.txt", f"lib/python{PY}/site-packages/owned.py"],
}
DATA = "evil-1.0.data"


@dataclass(frozen=True)
class Env:
    prefix: Path
    sibling: Path
    root: Path


@pytest.fixture(scope="module")
def venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("venv-cache")


@pytest.fixture
def env(tmp_path: Path, venv_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    # a temporary folder of the test's own: others' runs share the machine's /tmp
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    prefix = make_env(tmp_path, records=[OWNER], cache=venv_cache)
    if not (prefix / "lib64").is_symlink():  # venv makes it on 64-bit Linux; conda too
        (prefix / "lib64").symlink_to("lib")
    sibling = tmp_path / "sibling"
    sibling.mkdir()
    (sibling / "victim.txt").write_text("not yours\n")
    (sibling / "folder").mkdir()
    return Env(prefix=prefix, sibling=sibling, root=tmp_path)


def _evil(env: Env, files: dict[str, bytes | str], **options: object) -> Path:
    members = wheel_members("evil", "1.0", files, **options)  # type: ignore[arg-type]
    return write_wheel(env.root / "wheels" / "evil-1.0-py3-none-any.whl", members)


def _temp_leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).iterdir()}


def _run(env: Env, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main(["install", "--prefix", str(env.prefix), *map(str, args)])
    return code, capsys.readouterr().err


def _refused(
    env: Env, capsys: pytest.CaptureFixture[str], wheel: Path, *expected: str
) -> list[str]:
    before = (snapshot(env.prefix), snapshot(env.sibling), _temp_leftovers())
    code, err = _run(env, capsys, wheel)
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.strip().splitlines()
    assert lines[0].startswith("condawheel: error: "), err
    assert wheel.name in err, err
    for text in expected:
        assert text in err, err
    assert (snapshot(env.prefix), snapshot(env.sibling), _temp_leftovers()) == before
    return lines


# -- where files land ----------------------------------------------------------


def test_a_file_never_replaces_the_bin_folder(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = _evil(env, {f"{DATA}/data/bin": "#!/bin/sh\n"})
    _refused(env, capsys, wheel, f"member {DATA}/data/bin", "would replace the folder")


def test_a_file_never_replaces_conda_meta(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = _evil(env, {f"{DATA}/data/conda-meta": "gone\n"})
    _refused(env, capsys, wheel, f"member {DATA}/data/conda-meta")


def test_a_file_never_replaces_a_conda_owned_folder(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _evil(env, {f"{DATA}/data/share/owned": "flat\n"})
    _refused(env, capsys, wheel, "would replace the folder")


def test_a_folder_never_replaces_a_file(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    (env.prefix / "share" / "plain").write_text("a file no one owns\n")
    wheel = _evil(env, {f"{DATA}/data/share/plain/inner.txt": "x\n"})
    _refused(env, capsys, wheel, "would replace the file", "with a folder")


def test_a_file_and_a_folder_of_one_name_in_one_wheel(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _evil(
        env, {f"{DATA}/data/share/x": "file\n", f"{DATA}/data/share/x/y": "in a folder\n"}
    )
    _refused(env, capsys, wheel, "as a folder", "writes as a file")


def test_no_writing_into_conda_meta(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    python = next((env.prefix / "conda-meta").glob("python-*.json")).name
    forged = json.dumps({"name": "forged", "version": "1", "build": "0", "files": []})
    for member, data in [
        (f"{DATA}/data/conda-meta/history", "==> rewritten <==\n"),
        (f"{DATA}/data/conda-meta/{python}", "{}"),
        (f"{DATA}/data/conda-meta/forged-1-0.json", forged),
    ]:
        wheel = _evil(env, {member: data})
        _refused(env, capsys, wheel, f"member {member}", "conda-meta/")


def test_the_clash_check_follows_a_folder_link(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    # lib64 -> lib: lib64/libowned.so is conda's lib/libowned.so
    wheel = _evil(env, {f"{DATA}/data/lib64/libowned.so": b"\x7fELF evil"})
    _refused(env, capsys, wheel, "conda package owner-pkg 1.0 h0_0")


def test_a_conda_owned_module_in_site_packages(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _evil(env, {"owned.py": "EVIL = 1\n"})
    _refused(env, capsys, wheel, "owner-pkg")


def test_no_writing_through_a_folder_link_leading_out(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    (env.prefix / "share" / "out").symlink_to(env.sibling / "folder")
    wheel = _evil(env, {f"{DATA}/data/share/out/planted.txt": "x\n"})
    _refused(env, capsys, wheel, "is outside the prefix", str(env.sibling / "folder"))


def test_no_writing_over_a_file_link_leading_out(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    (env.prefix / "etc").mkdir()
    (env.prefix / "etc" / "conf").symlink_to(env.sibling / "victim.txt")
    wheel = _evil(env, {f"{DATA}/data/etc/conf": "overwritten\n"})
    _refused(env, capsys, wheel, f"member {DATA}/data/etc/conf", "symlink leading out")


def test_no_writing_another_distributions_metadata(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    record = "../../../../outside/victim.txt,,\n"
    wheel = _evil(env, {f"{DATA}/purelib/victim-1.0.dist-info/RECORD": record})
    _refused(env, capsys, wheel, "victim-1.0.dist-info, the metadata of another distribution")


def test_a_path_too_long_for_the_file_system(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = _evil(env, {f"{DATA}/data/share/{'n' * 300}.txt": "x\n"})
    _refused(env, capsys, wheel, "longer than the file system allows")


def test_members_that_differ_in_case_on_a_case_insensitive_file_system(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Linux test machines have case-sensitive file systems: the detection is forced,
    # the comparisons that follow are the real ones
    monkeypatch.setattr(condawheel.installation.paths, "is_case_insensitive", lambda _: True)
    wheel = _evil(env, {f"{DATA}/data/share/A.txt": "1\n", f"{DATA}/data/share/a.txt": "2\n"})
    _refused(env, capsys, wheel, "lands on the same file", "ignores case")
    wheel = _evil(env, {f"{DATA}/data/LIB/LIBOWNED.so": b"x"})
    _refused(env, capsys, wheel, "owner-pkg")
    wheel = _evil(env, {f"{DATA}/data/Conda-Meta/history": "x\n"})
    _refused(env, capsys, wheel, "conda-meta/")


def test_a_hardlink_in_the_prefix_is_replaced_not_written_through(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    os.link(env.sibling / "victim.txt", env.prefix / "share" / "linked.txt")
    sibling = snapshot(env.sibling)
    wheel = _evil(env, {f"{DATA}/data/share/linked.txt": "the wheel's\n"})
    code, err = _run(env, capsys, wheel)
    assert code == 0, err
    assert (env.prefix / "share" / "linked.txt").read_text() == "the wheel's\n"
    assert snapshot(env.sibling) == sibling


# -- what the wheel says about itself ------------------------------------------


@pytest.mark.parametrize(
    ("name", "members", "expected"),
    [
        ("not-utf8-wheel", {"wheel": b"Wheel-Version: 1.0\nRoot-Is-Purelib: \xff\n"}, "not UTF-8"),
        (
            "bad-version",
            {"metadata": "Metadata-Version: 2.1\nName: evil\nVersion: not a version!!\n"},
            "invalid Version",
        ),
        (
            "other-name",
            {"metadata": "Metadata-Version: 2.1\nName: angel\nVersion: 1.0\n"},
            "METADATA says angel",
        ),
        ("no-name", {"metadata": "Metadata-Version: 2.1\nVersion: 1.0\n"}, "no valid Name"),
        (
            "wheel-version-2",
            {"wheel": "Wheel-Version: 2.0\nRoot-Is-Purelib: true\n"},
            "Wheel-Version",
        ),
    ],
)
def test_broken_metadata(
    env: Env,
    capsys: pytest.CaptureFixture[str],
    name: str,
    members: dict[str, bytes | str],
    expected: str,
) -> None:
    wheel = _evil(env, {"evil.py": "X = 1\n"}, **members)
    _refused(env, capsys, wheel, expected)


@pytest.mark.parametrize(
    "script",
    ["../../escape", "/tmp/absolute", "sub/dir", "..", ".hidden", "tab\there", "c:\\evil"],
)
def test_entry_point_names_that_are_not_file_names(
    env: Env, capsys: pytest.CaptureFixture[str], script: str
) -> None:
    entry_points = f"[console_scripts]\n{script} = evil:main\n"
    wheel = _evil(
        env, {"evil.py": "def main(): pass\n"}, dist_info_files={"entry_points.txt": entry_points}
    )
    _refused(env, capsys, wheel, "entry_points.txt")


def _record_case(env: Env, **options: object) -> Path:
    members = wheel_members("evil", "1.0", {"evil.py": "X = 1\n", "big.bin": b"\0" * 1000})
    return write_wheel(env.root / "w" / "evil-1.0-py3-none-any.whl", members, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"record": False}, "RECORD is missing"),
        ({"rows": {"evil.py": "sha256=AAAA,6"}}, "evil.py does not match its sha256"),
        ({"rows": {"big.bin": "sha256=AAAA,1000000000000"}}, "big.bin is 1000 bytes, RECORD says"),
        ({"rows": {"evil.py": ""}}, "evil.py is not in"),
        ({"rows": {"evil.py": "md5=AAAA,6"}}, "no sha256 hash"),
        ({"rows": {"ghost.py": "sha256=AAAA,1"}}, "lists ghost.py, which the wheel lacks"),
        ({"duplicate": "evil.py"}, "is in the wheel twice"),
    ],
)
def test_record_verified_before_anything_is_placed(
    env: Env, capsys: pytest.CaptureFixture[str], options: dict[str, object], expected: str
) -> None:
    _refused(env, capsys, _record_case(env, **options), expected)


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (b"{not json", "prefix.json is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "prefix.json is not JSON"),
        (b'{"version": 1, "files": [{"path": 3}]}', "malformed entry"),
        (b'{"version": 1, "files": "all"}', "no 'files' list"),
        (b'{"version": 7, "files": []}', "not version 1"),
        (
            b'{"version": 1, "files": [{"path": "x.py", "placeholder": "/p", "mode": "text"}]}',
            "which the wheel lacks",
        ),
        (b"\xff\xfe", "prefix.json is not JSON"),
    ],
)
def test_malformed_prefix_json(
    env: Env, capsys: pytest.CaptureFixture[str], manifest: bytes, expected: str
) -> None:
    wheel = _evil(env, {"evil.py": "X = 1\n"}, dist_info_files={"conda/prefix.json": manifest})
    _refused(env, capsys, wheel, expected)


@pytest.mark.parametrize(
    "member",
    [
        f"{DATA}/../escape.py",
        f"{DATA}/data/../../escape.py",
        f"{DATA}/nowhere/x.py",
        f"{DATA}/data",
        "/etc/evil.conf",
        "C:/evil.py",
        "a\\..\\..\\evil.py",
        "line\nbreak.py",
        "./dot.py",
    ],
)
def test_member_names_that_escape_or_lie(
    env: Env, capsys: pytest.CaptureFixture[str], member: str
) -> None:
    _refused(env, capsys, _evil(env, {member: "X = 1\n"}), repr(member)[:20])


def test_a_wheel_that_does_not_fit_on_the_disk(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=100))
    _refused(env, capsys, _record_case(env), "make room first")


# -- removing what an installed distribution's RECORD lists ----------------------


def _plant(env: Env, name: str, rows: list[str]) -> Path:
    dist_info = site_packages(env.prefix) / f"{name}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "RECORD").write_text("".join(f"{row},,\n" for row in rows))
    return dist_info


def test_replacing_removes_only_what_is_inside_and_not_condas(
    env: Env, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    depth = "../" * (len(site_packages(env.prefix).relative_to(env.root).parts))
    (env.prefix / "share" / "out").symlink_to(env.sibling / "folder")
    (env.sibling / "folder" / "kept.txt").write_text("mine\n")
    (site_packages(env.prefix) / "victim.py").write_text("OLD = 1\n")
    rows = [
        f"{depth}sibling/victim.txt",
        "../../../share/out/kept.txt",
        "../../../lib64/libowned.so",
        "../../../conda-meta/history",
        "owned.py",
        "victim.py",
        "victim-1.0.dist-info/METADATA",
        "victim-1.0.dist-info/RECORD",
    ]
    _plant(env, "victim", rows)
    before_sibling = snapshot(env.sibling)
    owned = (env.prefix / "lib" / "libowned.so").read_bytes()
    wheel = write_wheel(
        env.root / "w" / "victim-2.0-py3-none-any.whl",
        wheel_members("victim", "2.0", {"victim.py": "NEW = 2\n"}),
    )
    assert main(["install", "--prefix", str(env.prefix), "--dry-run", str(wheel)]) == 0
    kept = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  keep ")]
    assert len(kept) == 5
    assert f"  keep      {env.prefix}/conda-meta/history is in conda-meta/" in kept[0]
    caplog.clear()
    code, err = _run(env, capsys, wheel)
    assert code == 0, err
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"{wheel.name}: 5 RECORD entries of the replaced version are left alone" in warning
    assert snapshot(env.sibling) == before_sibling
    assert (env.prefix / "lib" / "libowned.so").read_bytes() == owned
    assert (site_packages(env.prefix) / "owned.py").exists()
    assert (env.prefix / "conda-meta" / "history").exists()
    assert (site_packages(env.prefix) / "victim.py").read_text() == "NEW = 2\n"
    assert not (site_packages(env.prefix) / "victim-1.0.dist-info").exists()


def test_nothing_is_left_in_temporary_folders_or_the_prefix(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _temp_leftovers()
    wheel = _evil(env, {"evil.py": "X = 1\n"})
    code, err = _run(env, capsys, wheel)
    assert code == 0, err
    assert _temp_leftovers() == before
    assert not (env.prefix / ".condawheel").exists()
    assert not list(site_packages(env.prefix).glob(".*condawheel*"))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"record": False}, "RECORD is missing"),
        ({"rows": {"evil.py": "sha256=AAAA,6"}}, "evil.py does not match its sha256"),
    ],
)
def test_repair_reads_a_wheel_as_install_does(
    env: Env, capsys: pytest.CaptureFixture[str], options: dict[str, object], expected: str
) -> None:
    wheel = _record_case(env, **options)
    out = env.root / "out"
    assert main(["repair", str(wheel), "-w", str(out), "--with", str(env.prefix)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"condawheel: error: {wheel.name}: ") and expected in err, err
    assert not out.exists() or not any(out.iterdir())


def test_repair_refuses_metadata_that_is_not_utf8(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    metadata = b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nSummary: \xff\xfe\n"
    wheel = _evil(env, {"evil.py": "X = 1\n"}, metadata=metadata)
    assert main(["repair", str(wheel), "-w", str(env.root / "out")]) == 2
    assert "METADATA is not UTF-8" in capsys.readouterr().err
