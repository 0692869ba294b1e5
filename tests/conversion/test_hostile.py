"""Hostile and broken inputs: every one ends in exit code 2 and one clear line.

The contract (design.md section 6, and what a user would expect of a converter fed
a bad download): exit code 2; exactly one non-empty line on stderr, starting with
"condawheel: error:", naming the package file, saying what is wrong and what to do;
no traceback; nothing left in the output directory (no partial wheel, no temporary
file); nothing written anywhere else; an existing wheel never replaced without
``--overwrite``.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import tarfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from builders import CondaPackageBuilder
from clirun import run_cli
from validator import validate_wheel

Fmt = Literal["conda", "tar.bz2"]
FORMATS: tuple[Fmt, ...] = ("conda", "tar.bz2")

#: Words by which an error message tells the user what to do about it.
ADVICE = re.compile(
    r"download|rebuild|build it|re-?build|pass --|use a |expected a file|no such file",
    re.IGNORECASE,
)


# -- helpers ------------------------------------------------------------------


def base_builder(*, version: str = "1.0", **kwargs: object) -> CondaPackageBuilder:
    """A small, valid linux-64 package: a data file and a Python module."""
    builder = CondaPackageBuilder(
        name="hostile",
        version=version,
        build="h0_0",
        license="MIT",
        **kwargs,  # type: ignore[arg-type]
    )
    builder.add_file("share/hostile/data.txt", "hello\n")
    builder.add_file("lib/python3.12/site-packages/hostile/__init__.py", "VALUE = 1\n")
    return builder


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root``: file bytes, a symlink's target, or None for a folder."""
    found: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("-> " + str(path.readlink())).encode()
            elif path.is_file():
                found[rel] = path.read_bytes()
            else:
                found[rel] = None
    return found


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    line = lines[0]
    assert line.startswith("condawheel: error:"), line
    return line


def assert_rejected(
    result: subprocess.CompletedProcess[str],
    package: Path,
    *,
    problem: str | None = None,
) -> str:
    """Exit 2, one line naming ``package`` and the ``problem`` (a regex).

    Whether the line also says what to do is test_message_says_what_to_do's concern.
    """
    assert result.returncode == 2, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    line = one_error_line(result.stderr)
    assert package.name in line, f"the message does not name {package.name}: {line}"
    if problem is not None:
        assert re.search(problem, line, re.IGNORECASE), f"{problem!r} not in: {line}"
    return line


@dataclass
class Workspace:
    """tmp_path laid out as inputs in ``in/``, wheels to ``out/``, cwd = tmp_path."""

    root: Path

    @property
    def inputs(self) -> Path:
        return self.root / "in"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def convert(self, package: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_cli(self.root, "convert", package, "-w", self.out, *extra)

    def assert_nothing_written(self, before: dict[str, bytes | None]) -> None:
        after = snapshot(self.root)
        # The output directory itself may have been created (empty); nothing else.
        created = sorted(set(after) - set(before) - {"out"})
        assert not created, f"files left behind: {created}"
        changed = sorted(k for k in before if after.get(k, b"gone") != before[k])
        assert not changed, f"existing files changed or removed: {changed}"
        if self.out.exists():
            held = sorted(p.name for p in self.out.iterdir())
            expected = sorted(Path(k).name for k in before if k.startswith("out/"))
            assert held == expected, f"output directory holds {held}"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path)
    workspace.inputs.mkdir()
    return workspace


def token() -> str:
    return "condawheel-evil-" + uuid.uuid4().hex[:12]


def random_bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def rewrite_conda(
    package: Path, edit: Callable[[dict[str, bytes]], dict[str, bytes]], dest: Path
) -> Path:
    """Rewrite the zip members of a `.conda` (name -> bytes) into ``dest``."""
    with zipfile.ZipFile(package) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members = edit(members)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dest


# -- archives -----------------------------------------------------------------

ARCHIVE_PROBLEM = r"corrupt|truncated|not a readable"


@pytest.mark.parametrize("fmt", FORMATS)
def test_random_bytes(ws: Workspace, fmt: Fmt) -> None:
    package = ws.inputs / f"corrupt-1.0-0.{fmt}"
    package.write_bytes(random_bytes(8192))
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ARCHIVE_PROBLEM)
    ws.assert_nothing_written(before)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("cut", ["half", "near-end"])
def test_truncated_archive(ws: Workspace, fmt: Fmt, cut: str) -> None:
    good = base_builder().build(ws.root / "good", fmt)
    data = good.read_bytes()
    package = ws.inputs / good.name  # the same name: .conda components are found by it
    package.write_bytes(data[: len(data) // 2] if cut == "half" else data[:-24])
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ARCHIVE_PROBLEM)
    ws.assert_nothing_written(before)


def test_conda_with_corrupt_pkg_component(ws: Workspace) -> None:
    good = base_builder().build(ws.root / "good", "conda")

    def corrupt(members: dict[str, bytes]) -> dict[str, bytes]:
        return {
            k: (random_bytes(len(v), seed=1) if k.startswith("pkg-") else v)
            for k, v in members.items()
        }

    package = rewrite_conda(good, corrupt, ws.inputs / good.name)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ARCHIVE_PROBLEM)
    ws.assert_nothing_written(before)


def test_conda_with_truncated_pkg_component(ws: Workspace) -> None:
    good = base_builder().build(ws.root / "good", "conda")

    def truncate(members: dict[str, bytes]) -> dict[str, bytes]:
        return {k: (v[: len(v) // 2] if k.startswith("pkg-") else v) for k, v in members.items()}

    package = rewrite_conda(good, truncate, ws.inputs / good.name)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ARCHIVE_PROBLEM)
    ws.assert_nothing_written(before)


def test_conda_without_info_component(ws: Workspace) -> None:
    good = base_builder().build(ws.root / "good", "conda")

    def drop_info(members: dict[str, bytes]) -> dict[str, bytes]:
        return {k: v for k, v in members.items() if not k.startswith("info-")}

    package = rewrite_conda(good, drop_info, ws.inputs / good.name)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=r"info")
    ws.assert_nothing_written(before)


def test_conda_with_two_info_components(ws: Workspace) -> None:
    # conda-package-streaming finds a component by name prefix and asserts there is
    # one; a second member with that prefix must still be a clean input error.
    good = base_builder().build(ws.root / "good", "conda")

    def duplicate(members: dict[str, bytes]) -> dict[str, bytes]:
        info = next(k for k in members if k.startswith("info-"))
        return {**members, info + ".bak": members[info]}

    package = rewrite_conda(good, duplicate, ws.inputs / good.name)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package)
    ws.assert_nothing_written(before)


# -- index.json ---------------------------------------------------------------


def _index(**changes: object) -> dict[str, object]:
    return {**base_builder().index_json(), **changes}


INDEX_CASES: dict[str, tuple[bytes | dict[str, object] | None, str]] = {
    "missing": (None, r"index\.json.*missing"),
    "invalid-json": (b'{"name": "hostile", "version": ', r"index\.json.*not valid JSON"),
    "json-list": (b'["hostile", "1.0"]', r"index\.json.*not a JSON object"),
    "no-name-version": (
        {"build": "h0_0", "build_number": 0, "subdir": "linux-64", "depends": []},
        r"index\.json.*'name'.*'version'|index\.json.*(name|version)",
    ),
    # A null or empty name is no name: the wheel must not be called "none" or "unnamed".
    "null-name": (_index(name=None), r"name"),
    "empty-name": (_index(name=""), r"name"),
    # A string where the list belongs must not become one Requires-External per letter.
    "depends-not-a-list": (_index(depends="python"), r"depends"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(INDEX_CASES))
def test_bad_index_json(ws: Workspace, fmt: Fmt, case: str) -> None:
    override, problem = INDEX_CASES[case]
    package = base_builder().build(ws.inputs, fmt, index_json_override=override)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=problem)
    ws.assert_nothing_written(before)


# -- members that escape ------------------------------------------------------

ESCAPE_PROBLEM = r"escapes|outside|absolute"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", ["dotdot", "nested-dotdot", "absolute"])
def test_member_path_escaping(ws: Workspace, fmt: Fmt, shape: str) -> None:
    name = token()
    member, would_be = {
        "dotdot": (f"../{name}.txt", ws.root / f"{name}.txt"),
        "nested-dotdot": (f"lib/../../{name}", ws.root / name),
        "absolute": (f"/tmp/{name}", Path("/tmp") / name),
    }[shape]
    package = base_builder().add_raw_member(member, "pwned\n").build(ws.inputs, fmt)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ESCAPE_PROBLEM)
    ws.assert_nothing_written(before)
    for target in (would_be, ws.root.parent / would_be.name, ws.out.parent / would_be.name):
        assert not target.exists(), target


@pytest.mark.parametrize("fmt", FORMATS)
def test_symlink_to_absolute_path(ws: Workspace, fmt: Fmt) -> None:
    outside = Path("/tmp") / token()
    package = base_builder().add_symlink("lib/libabs.so", str(outside)).build(ws.inputs, fmt)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ESCAPE_PROBLEM)
    ws.assert_nothing_written(before)
    assert not outside.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_symlink_escaping_the_package(ws: Workspace, fmt: Fmt) -> None:
    package = base_builder().add_symlink("lib/x", "../../../etc/passwd").build(ws.inputs, fmt)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ESCAPE_PROBLEM)
    ws.assert_nothing_written(before)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unlisted_raw_symlink_escaping(ws: Workspace, fmt: Fmt) -> None:
    # Not in paths.json either: refused all the same, not silently skipped.
    package = (
        base_builder()
        .add_raw_member("lib/y", type=tarfile.SYMTYPE, linkname="../../../etc/passwd")
        .build(ws.inputs, fmt)
    )
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=ESCAPE_PROBLEM)
    ws.assert_nothing_written(before)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hardlink_escaping(ws: Workspace, fmt: Fmt) -> None:
    name = token()
    package = (
        base_builder()
        .add_raw_member("lib/hl", type=tarfile.LNKTYPE, linkname=f"../../{name}")
        .build(ws.inputs, fmt)
    )
    before = snapshot(ws.root)
    line = assert_rejected(ws.convert(package), package, problem=ESCAPE_PROBLEM)
    ws.assert_nothing_written(before)
    assert not (ws.root / name).exists()
    assert not (ws.root.parent / name).exists()
    # The message names the link, not only its target (which is no member at all).
    assert "lib/hl" in line, line


# -- paths.json against the archive -------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_paths_json_lists_a_missing_file(ws: Workspace, fmt: Fmt) -> None:
    package = base_builder().list_missing("share/hostile/gone.txt").build(ws.inputs, fmt)
    before = snapshot(ws.root)
    line = assert_rejected(ws.convert(package), package, problem=r"paths\.json")
    assert "share/hostile/gone.txt" in line
    ws.assert_nothing_written(before)


@pytest.mark.parametrize("fmt", FORMATS)
def test_paths_json_wrong_sha256(ws: Workspace, fmt: Fmt) -> None:
    package = base_builder().wrong_sha256_for("share/hostile/data.txt").build(ws.inputs, fmt)
    before = snapshot(ws.root)
    line = assert_rejected(ws.convert(package), package, problem=r"sha256")
    assert "share/hostile/data.txt" in line
    ws.assert_nothing_written(before)


# -- versions and subdirs -----------------------------------------------------


@pytest.mark.parametrize(("fmt", "version"), [("conda", "1.1.1w"), ("tar.bz2", "2.0_beta_weird")])
def test_version_pep440_cannot_parse(ws: Workspace, fmt: Fmt, version: str) -> None:
    package = base_builder(version=version).build(ws.inputs, fmt)
    before = snapshot(ws.root)
    line = assert_rejected(ws.convert(package), package, problem=r"PEP 440")
    assert "--version" in line
    assert version in line
    ws.assert_nothing_written(before)

    result = ws.convert(package, "--version", "1.1.1")
    assert result.returncode == 0, result.stderr
    wheels = list(ws.out.iterdir())
    assert len(wheels) == 1, wheels
    assert wheels[0].name.startswith("hostile-1.1.1-"), wheels[0].name
    report = validate_wheel(wheels[0])
    assert str(report.version) == "1.1.1"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_subdir(ws: Workspace, fmt: Fmt) -> None:
    package = base_builder(subdir="linux-foo").build(ws.inputs, fmt)
    before = snapshot(ws.root)
    line = assert_rejected(ws.convert(package), package, problem=r"subdir")
    assert "linux-foo" in line
    ws.assert_nothing_written(before)


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_subdir_platform_and_arch(ws: Workspace, fmt: Fmt) -> None:
    builder = base_builder()
    index = {
        k: v for k, v in builder.index_json().items() if k not in {"subdir", "platform", "arch"}
    }
    package = builder.build(ws.inputs, fmt, index_json_override=index)
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=r"subdir")
    ws.assert_nothing_written(before)


# -- not a package at all -----------------------------------------------------


@pytest.mark.parametrize("name", ["foo.zip", "foo.txt"])
def test_not_a_conda_package(ws: Workspace, name: str) -> None:
    package = ws.inputs / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(package, "w") as zf:
            zf.writestr("hello.txt", "hi\n")
    else:
        package.write_text("just text\n")
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=r"not a conda package")
    ws.assert_nothing_written(before)


@pytest.mark.parametrize("fmt", FORMATS)
def test_path_does_not_exist(ws: Workspace, fmt: Fmt) -> None:
    package = ws.inputs / f"absent-1.0-0.{fmt}"
    before = snapshot(ws.root)
    assert_rejected(ws.convert(package), package, problem=r"no such file|does not exist")
    ws.assert_nothing_written(before)


# -- an existing wheel ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_existing_wheel_needs_overwrite(ws: Workspace, fmt: Fmt) -> None:
    package = base_builder().build(ws.inputs, fmt)
    first = ws.convert(package)
    assert first.returncode == 0, first.stderr
    (wheel,) = ws.out.iterdir()
    original = b"not a wheel, but the user's file: keep me\n"
    wheel.write_bytes(original)

    before = snapshot(ws.root)
    refused = ws.convert(package)
    assert refused.returncode == 2, refused.stderr
    ws.assert_nothing_written(before)
    assert wheel.read_bytes() == original

    replaced = ws.convert(package, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert "Traceback" not in replaced.stderr
    assert sorted(p.name for p in ws.out.iterdir()) == [wheel.name]
    assert wheel.read_bytes() != original
    validate_wheel(wheel)

    # Last, so that a wording problem does not hide the checks above.
    line = assert_rejected(refused, package, problem=r"exists")
    assert wheel.name in line
    assert "--overwrite" in line


# -- inspect, and --json ------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("random", ARCHIVE_PROBLEM),
        ("dotdot", ESCAPE_PROBLEM),
        ("wrong-sha", r"sha256"),
        ("version", r"PEP 440"),
    ],
)
def test_inspect_rejects(ws: Workspace, case: str, problem: str) -> None:
    if case == "random":
        package = ws.inputs / "corrupt-1.0-0.conda"
        package.write_bytes(random_bytes(4096))
    elif case == "dotdot":
        package = base_builder().add_raw_member(f"../{token()}", "x").build(ws.inputs, "tar.bz2")
    elif case == "wrong-sha":
        package = base_builder().wrong_sha256_for("share/hostile/data.txt").build(ws.inputs)
    else:
        package = base_builder(version="1.1.1w").build(ws.inputs)
    before = snapshot(ws.root)
    result = run_cli(ws.root, "inspect", package)
    assert_rejected(result, package, problem=problem)
    assert snapshot(ws.root) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_json_mode_reports_the_error(ws: Workspace, fmt: Fmt) -> None:
    package = base_builder().wrong_sha256_for("share/hostile/data.txt").build(ws.inputs, fmt)
    before = snapshot(ws.root)
    result = ws.convert(package, "--json")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    obj = json.loads(lines[0])
    assert isinstance(obj, dict)
    assert obj["exit_code"] == 2
    assert package.name in obj["error"]
    assert "sha256" in obj["error"]
    assert obj.get("input") == str(package)
    ws.assert_nothing_written(before)


def test_batch_goes_on_after_a_bad_package(ws: Workspace) -> None:
    # One bad input among good ones: the good one converts, the run exits 2.
    bad = ws.inputs / "corrupt-1.0-0.conda"
    bad.write_bytes(random_bytes(4096))
    good = base_builder().build(ws.inputs, "tar.bz2")
    result = run_cli(ws.root, "convert", bad, good, "-w", ws.out)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert bad.name in line
    wheels = list(ws.out.iterdir())
    assert len(wheels) == 1, wheels
    validate_wheel(wheels[0])


# -- every message says what to do ---------------------------------------------


def _raw(builder: CondaPackageBuilder, name: str, **kwargs: object) -> CondaPackageBuilder:
    return builder.add_raw_member(name, **kwargs)  # type: ignore[arg-type]


ADVICE_CASES: dict[str, Callable[[Path], Path]] = {
    "random-bytes": lambda d: _write(d / "corrupt-1.0-0.conda", random_bytes(4096)),
    "missing-index": lambda d: base_builder().build(d, index_json_override=None),
    "invalid-json-index": lambda d: base_builder().build(d, index_json_override=b"{"),
    "list-index": lambda d: base_builder().build(d, index_json_override=b"[]"),
    "index-without-name": lambda d: base_builder().build(d, index_json_override={"x": 1}),
    "dotdot-member": lambda d: _raw(base_builder(), "../evil.txt", data=b"x").build(d),
    "absolute-member": lambda d: _raw(base_builder(), f"/tmp/{token()}", data=b"x").build(d),
    "absolute-symlink": lambda d: base_builder().add_symlink("lib/l", "/etc/passwd").build(d),
    "escaping-symlink": lambda d: base_builder().add_symlink("lib/x", "../../../e").build(d),
    "escaping-hardlink": lambda d: _raw(
        base_builder(), "lib/h", type=tarfile.LNKTYPE, linkname="../../x"
    ).build(d),
    "missing-member": lambda d: base_builder().list_missing("share/gone").build(d),
    "wrong-sha": lambda d: base_builder().wrong_sha256_for("share/hostile/data.txt").build(d),
    "version": lambda d: base_builder(version="1.1.1w").build(d),
    "unknown-subdir": lambda d: base_builder(subdir="linux-foo").build(d),
    "not-a-package": lambda d: _write(d / "foo.txt", b"hi\n"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(ADVICE_CASES))
def test_message_says_what_to_do(ws: Workspace, case: str) -> None:
    # "names the file and the problem and says what to do": the what-to-do part.
    package = ADVICE_CASES[case](ws.inputs)
    line = assert_rejected(ws.convert(package), package)
    assert ADVICE.search(line), f"the message does not say what to do: {line}"


# -- the API -------------------------------------------------------------------


def _api_cases(ws: Workspace) -> dict[str, Path]:
    corrupt = ws.inputs / "corrupt-1.0-0.tar.bz2"
    corrupt.write_bytes(random_bytes(4096))
    text = ws.inputs / "foo.txt"
    text.write_text("hi\n")
    return {
        "corrupt": corrupt,
        "not-a-package": text,
        "absent": ws.inputs / "absent-1.0-0.conda",
        "no-index": base_builder().build(ws.root / "a", index_json_override=None),
        "index-list": base_builder().build(ws.root / "b", index_json_override=b"[]"),
        "dotdot": base_builder().add_raw_member("../evil.txt", "x").build(ws.root / "c"),
        "absolute-symlink": base_builder().add_symlink("lib/l", "/etc/passwd").build(ws.root / "d"),
        "escaping-hardlink": base_builder()
        .add_raw_member("lib/h", type=tarfile.LNKTYPE, linkname="../../x")
        .build(ws.root / "e", "tar.bz2"),
        "missing-member": base_builder().list_missing("share/gone").build(ws.root / "f"),
        "wrong-sha": base_builder().wrong_sha256_for("share/hostile/data.txt").build(ws.root / "g"),
        "version": base_builder(version="1.1.1w").build(ws.root / "h"),
        "subdir": base_builder(subdir="linux-foo").build(ws.root / "i"),
    }


def test_api_raises_bad_input_error(ws: Workspace) -> None:
    from condawheel.conversion.core import convert
    from condawheel.exceptions import BadInputError

    for case, package in _api_cases(ws).items():
        out = ws.root / f"out-{case}"
        with pytest.raises(BadInputError) as caught:
            convert(package, out)
        assert type(caught.value) is BadInputError, (case, type(caught.value))
        assert package.name in str(caught.value), (case, str(caught.value))
        assert "\n" not in str(caught.value), case
        assert not out.exists() or not any(out.iterdir()), (case, list(out.iterdir()))


def test_api_existing_wheel(ws: Workspace) -> None:
    from condawheel.conversion.core import convert
    from condawheel.conversion.plan import ConvertOptions
    from condawheel.exceptions import BadInputError

    package = base_builder().build(ws.inputs)
    wheel = convert(package, ws.out).wheel
    wheel.write_bytes(b"keep")
    with pytest.raises(BadInputError):
        convert(package, ws.out)
    assert wheel.read_bytes() == b"keep"
    assert sorted(p.name for p in ws.out.iterdir()) == [wheel.name]
    assert convert(package, ws.out, ConvertOptions(overwrite=True)).wheel == wheel
    assert wheel.read_bytes() != b"keep"
