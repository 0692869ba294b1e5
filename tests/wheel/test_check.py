"""Is a wheel fit to publish: RECORD, .dist-info, WHEEL, METADATA and twine's check."""

from __future__ import annotations

import hashlib
import platform
import zipfile
from pathlib import Path

import pytest
from packaging.tags import Tag
from packaging.version import Version

from builders import CondaPackageBuilder
from compilers import compile_shared_library, requires_gcc
from condawheel.conversion.core import convert
from condawheel.exceptions import BadInputError
from condawheel.wheel.check import check_wheel
from demo_wheel import DIST_INFO, METADATA, NAME, WHEEL, write_wheel
from validator import validate_wheel
from wheelmaker import record_hash


def test_a_valid_conda_tagged_wheel_passes_with_what_publishing_needs(tmp_path: Path) -> None:
    path = write_wheel(tmp_path / NAME)
    checked = check_wheel(path)
    assert (checked.name, checked.version) == ("demo", Version("1.0"))
    assert checked.tags == frozenset({Tag("cp312", "cp312", "conda_linux_2_17_x86_64")})
    assert checked.python_tag == "cp312"
    assert checked.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert checked.size == path.stat().st_size
    # lower-case field names, as packaging writes them, are read all the same
    assert checked.metadata["name"] == "demo" and checked.metadata["metadata_version"] == "2.4"


def test_a_converted_wheel_passes(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="hello-pkg", version="2.0", noarch="python")
    builder.add_file("site-packages/hello_pkg/__init__.py", "print('hi')\n")
    wheel = convert(builder.build(tmp_path / "pkgs"), tmp_path / "dist").wheel
    validate_wheel(wheel)
    checked = check_wheel(wheel)
    assert (checked.name, str(checked.version)) == ("hello-pkg", "2.0")


def _problems(path: Path) -> str:
    with pytest.raises(BadInputError) as caught:
        check_wheel(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path.name}: not a valid wheel: ")
    return message


def test_record_hashes_sizes_and_listing_are_checked(tmp_path: Path) -> None:
    body = b"ANSWER = 42\n"
    rows = [
        f"demo/__init__.py,{record_hash(body + b'#')},{len(body)}",  # wrong hash
        f"{DIST_INFO}/METADATA,{record_hash(METADATA.encode())},{len(METADATA) + 1}",  # wrong size
        f"{DIST_INFO}/WHEEL,{record_hash(WHEEL.encode())},{len(WHEEL)}",
        f"demo/gone.py,{record_hash(b'')},0",  # not in the wheel
        f"{DIST_INFO}/RECORD,,",
    ]
    path = write_wheel(
        tmp_path / NAME, record="\n".join(rows) + "\n", unlisted={"demo/extra.py": b""}
    )
    message = _problems(path)
    assert "hash / size of demo/__init__.py didn't match RECORD" in message
    assert f"hash / size of {DIST_INFO}/METADATA didn't match RECORD" in message
    assert "demo/extra.py is not mentioned in RECORD" in message
    assert "RECORD lists demo/gone.py, which is not in the wheel" in message
    assert str(tmp_path) not in message  # installer's "In /path/x.whl, " is dropped


def test_a_missing_record_or_metadata_is_reported(tmp_path: Path) -> None:
    path = tmp_path / NAME
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo/__init__.py", "")
        archive.writestr(f"{DIST_INFO}/WHEEL", WHEEL)
    message = _problems(path)
    assert f"{DIST_INFO}/METADATA is missing" in message
    assert f"{DIST_INFO}/RECORD is missing" in message


def test_the_dist_info_is_named_for_the_distribution(tmp_path: Path) -> None:
    path = tmp_path / NAME.replace("demo-", "demo_two-")
    write_wheel(path)
    message = _problems(path)
    assert message.endswith(
        "not a valid wheel: its demo-1.0.dist-info is not named for demo-two; "
        "METADATA names demo, the file name demo-two; build it again"
    )


def test_exactly_one_dist_info(tmp_path: Path) -> None:
    path = write_wheel(tmp_path / NAME, {"other-1.0.dist-info/METADATA": METADATA})
    with pytest.raises(BadInputError, match=r"exactly one \.dist-info"):
        check_wheel(path)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ("Metadata-Version: 2.4\nName: other\nVersion: 1.0\n", "METADATA names other"),
        ("Metadata-Version: 2.4\nName: demo\nVersion: 1.1\n", "METADATA says version 1.1"),
        ("Metadata-Version: 2.4\nName: demo\nVersion: one\n", "METADATA: "),
        ("Metadata-Version: 2.4\nVersion: 1.0\n", "METADATA: "),
        (
            "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nRequires-Dist: ==oops\n",
            "METADATA: ",
        ),
    ],
)
def test_metadata_is_parsed_by_packaging_and_matches_the_file_name(
    tmp_path: Path, metadata: str, expected: str
) -> None:
    assert expected in _problems(write_wheel(tmp_path / NAME, {f"{DIST_INFO}/METADATA": metadata}))


@pytest.mark.parametrize(
    ("wheel", "expected"),
    [
        (WHEEL.replace("cp312-cp312", "cp311-cp311"), "WHEEL declares tags cp311-cp311-conda"),
        (WHEEL.replace("Build: 3_abc\n", ""), "WHEEL says Build None, the file name 3_abc"),
        (WHEEL.replace("Root-Is-Purelib: false\n", ""), "no Root-Is-Purelib"),
        (WHEEL.replace("Wheel-Version: 1.0", "Wheel-Version: 2.0"), "not 1.x"),
    ],
)
def test_wheel_file_agrees_with_the_file_name(tmp_path: Path, wheel: str, expected: str) -> None:
    assert expected in _problems(write_wheel(tmp_path / NAME, {f"{DIST_INFO}/WHEEL": wheel}))


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    members = {
        f"{DIST_INFO}/WHEEL": WHEEL.replace("Build: 3_abc\n", ""),
        f"{DIST_INFO}/METADATA": METADATA.replace("1.0", "2.0"),
    }
    message = _problems(write_wheel(tmp_path / NAME, members))
    assert "WHEEL says Build" in message and "METADATA says version 2.0" in message


def test_a_description_that_would_not_render_is_refused_as_twine_check_does(
    tmp_path: Path,
) -> None:
    broken = METADATA + "description-content-type: text/x-rst\n\nTitle\n=====\n\n.. bogus::\n"
    message = _problems(write_wheel(tmp_path / NAME, {f"{DIST_INFO}/METADATA": broken}))
    assert "not valid reStructuredText" in message


@pytest.mark.parametrize(
    "extra",
    [
        "description-content-type: text/markdown\n\n# Title\n\n.. bogus::\n",
        "description-content-type: text/x-rst\n\nTitle\n=====\n\nFine *text*.\n",
        "",  # no description: twine check only warns
    ],
)
def test_descriptions_that_render_pass(tmp_path: Path, extra: str) -> None:
    check_wheel(write_wheel(tmp_path / NAME, {f"{DIST_INFO}/METADATA": METADATA + extra}))


@requires_gcc
def test_binaries_must_fit_the_platform_tags(tmp_path: Path) -> None:
    library = compile_shared_library(tmp_path, "libfoo.so.1", "int foo(void) { return 1; }\n")
    binary = {"demo/libfoo.so.1": library.read_bytes()}
    arch = platform.machine()
    assert arch in ("x86_64", "aarch64")
    fits = NAME.replace("x86_64", arch)
    wheel_text = WHEEL.replace("x86_64", arch)
    check_wheel(write_wheel(tmp_path / fits, {**binary, f"{DIST_INFO}/WHEEL": wheel_text}))

    other = "aarch64" if arch == "x86_64" else "x86_64"
    wrong_arch = NAME.replace("x86_64", other)
    message = _problems(
        write_wheel(
            tmp_path / wrong_arch, {**binary, f"{DIST_INFO}/WHEEL": WHEEL.replace("x86_64", other)}
        )
    )
    assert f"demo/libfoo.so.1 is built for {arch}, not conda_linux_2_17_{other}" in message

    windows = NAME.replace("conda_linux_2_17_x86_64", "win_amd64")
    wheel_file = WHEEL.replace("conda_linux_2_17_x86_64", "win_amd64")
    message = _problems(
        write_wheel(tmp_path / windows, {**binary, f"{DIST_INFO}/WHEEL": wheel_file})
    )
    assert "demo/libfoo.so.1 is elf, which win_amd64 cannot run" in message

    pure = "demo-1.0-3_abc-py3-none-any.whl"
    wheel_file = WHEEL.replace("cp312-cp312-conda_linux_2_17_x86_64", "py3-none-any").replace(
        "Root-Is-Purelib: false", "Root-Is-Purelib: true"
    )
    message = _problems(write_wheel(tmp_path / pure, {**binary, f"{DIST_INFO}/WHEEL": wheel_file}))
    assert "demo/libfoo.so.1 is a binary, but the wheel is tagged any" in message


@requires_gcc
def test_a_conda_noarch_wheel_may_hold_binaries_of_any_platform(tmp_path: Path) -> None:
    """noarch: generic packages without Python content (and their launchers) are
    tagged conda_noarch: publish takes them."""
    library = compile_shared_library(tmp_path, "libfoo.so.1", "int foo(void) { return 1; }\n")
    noarch = "demo-1.0-3_abc-py3-none-conda_noarch.whl"
    wheel_file = WHEEL.replace("cp312-cp312-conda_linux_2_17_x86_64", "py3-none-conda_noarch")
    members: dict[str, bytes | str] = {
        "demo-1.0.data/data/bin/foo.so": library.read_bytes(),
        f"{DIST_INFO}/WHEEL": wheel_file,
    }
    check_wheel(write_wheel(tmp_path / noarch, members))


def test_launcher_templates_of_pure_tools_are_not_binaries_of_the_wheel(tmp_path: Path) -> None:
    pure = "demo-1.0-3_abc-py3-none-any.whl"
    wheel_file = WHEEL.replace("cp312-cp312-conda_linux_2_17_x86_64", "py3-none-any")
    launcher = b"MZ" + bytes(200)  # a PE header that would not even parse
    members: dict[str, bytes | str] = {
        "setuptools/cli-64.exe": launcher,
        f"{DIST_INFO}/WHEEL": wheel_file,
    }
    check_wheel(write_wheel(tmp_path / pure, members))
