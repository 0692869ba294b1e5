"""Every package of the shared corpus converts to a valid wheel, or is refused for a
stated reason with a one-line error (never a traceback)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from condawheel.binaries import BinaryFormat, BinaryReadError, read_binary, sniff
from condawheel.cli.report import report
from condawheel.conversion.core import convert, inspect_package
from condawheel.exceptions import BadInputError
from paths import CORPUS
from validator import install_wheel, validate_wheel

_STRIPPED = "which the archive does not hold"
_VERIFY = "conda-verify test package"

#: Packages that cannot become wheels, each with the reason (a fragment of the error).
EXPECTED_FAILURES: dict[str, tuple[str, str]] = {
    # `stripped` rows: the payload was removed from the archive, but paths.json
    # still lists it, so the package is incomplete.
    "real/noarch/flask-0.11.1-py_0.tar.bz2": (_STRIPPED, "payload stripped"),
    "real/osx-64/fly-2.5.2-0.tar.bz2": (_STRIPPED, "payload stripped"),
    "real/unknown-subdir/nano-2.4.1-0.tar.bz2": (_STRIPPED, "payload stripped"),
    # A post-link script edited after the package was built.
    "test-built/noarch/spiffy-test-app-0.5-pyh6afbcc8_0.tar.bz2": (
        "does not match its sha256",
        "file altered after build",
    ),
    # A renamed copy of the next one: components are found by their own stem.
    "test-built/unknown-subdir/e5414998-symlink-test-1.0.0-0.conda": (
        "names no subdir",
        "index.json has no subdir, platform or arch",
    ),
    "test-built/unknown-subdir/symlink-test-1.0.0-0.conda": (
        "names no subdir",
        "index.json has no subdir, platform or arch",
    ),
    "test-built/noarch/testfile-0.0.36-noarch.tar.bz2": ("link.json is not valid JSON", _VERIFY),
    "test-built/osx-64/testfile-0.0.1-py36_0.tar.bz2": ("link.json is not valid JSON", _VERIFY),
    "test-built/osx-64/testfile-0.0.53-py36_0.tar.bz2": ("not a list of strings", _VERIFY),
    "test-built/win-64/testfile-0.0.48-py27_0.tar.bz2": ("invalid glob", _VERIFY),
    "test-built/win-64/testfile-0.0.49-py27_0.tar.bz2": ("missing package name", _VERIFY),
}
# `depends` is a string ("python 3.6*"), not a list.
for _name in (
    "linux-64/testfile-0.0.21",
    "osx-64/testfile-0.0.5",
    "osx-64/testfile-0.0.11",
    "osx-64/testfile-0.0.51",
    "win-64/testfile-0.0.46",
):
    EXPECTED_FAILURES[f"test-built/{_name}-py36_0.tar.bz2"] = ("not a list of strings", _VERIFY)
for _name in (
    "linux-64/testfile-0.0.17-py36_0",
    "linux-64/testfile-0.0.18-py36_0",
    "linux-64/testfile-0.0.19-py36_0",
    "linux-64/testfile-0.0.23-py36_0",
    "linux-64/testfile-0.0.39-py36_0",
    "win-64/testfile-0.0.11-py36_0",
    "win-64/testfile-0.0.27-py27_0",
    "win-64/testfile-0.0.30-py27_0",
    "win-64/testfile-0.0.35-py27_0",
):
    EXPECTED_FAILURES[f"test-built/{_name}.tar.bz2"] = (_STRIPPED, _VERIFY)


def _catalog() -> list[dict[str, str]]:
    with (CORPUS / "CATALOG.tsv").open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = _catalog() if (CORPUS / "CATALOG.tsv").is_file() else []


def test_catalog_is_there() -> None:
    assert len(ROWS) > 100, f"the shared corpus catalog is missing or short at {CORPUS}"
    assert set(EXPECTED_FAILURES) <= {row["file"] for row in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_corpus_package(row: dict[str, str], tmp_path: Path) -> None:
    package = CORPUS / row["file"]
    expected = EXPECTED_FAILURES.get(row["file"])
    if expected is not None:
        fragment, _reason = expected
        with pytest.raises(BadInputError, match=fragment) as raised:
            convert(package, tmp_path / "out")
        message = str(raised.value)
        assert "\n" not in message and package.name in message
        assert not any((tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else True
        return
    result = convert(package, tmp_path / "out")
    report = validate_wheel(result.wheel)
    assert report.name == result.plan.dist.name.lower().replace("_", "-") or report.name
    _check_layout(row, result.wheel, tmp_path)
    _check_search_paths(result.wheel, tmp_path)


def _check_search_paths(wheel: Path, tmp_path: Path) -> None:
    """No binary searches the build machine's folders (conda's placeholder prefix in a
    search path is the environment, made relative), and prefix.json lists only binaries
    that still hold their placeholder."""
    with zipfile.ZipFile(wheel) as archive:
        manifest = next((n for n in archive.namelist() if n.endswith("/conda/prefix.json")), None)
        for entry in json.loads(archive.read(manifest))["files"] if manifest else ():
            data = archive.read(entry["path"])
            if sniff(data[:64]) in (BinaryFormat.ELF, BinaryFormat.MACHO):
                assert entry["placeholder"].encode() in data, entry
        for name in archive.namelist():
            data = archive.read(name)
            if sniff(data[:64]) not in (BinaryFormat.ELF, BinaryFormat.MACHO):
                continue
            try:
                info = read_binary(io.BytesIO(data))
            except BinaryReadError:
                continue  # kept as data, with a warning
            for entry in (*info.rpath, *info.runpath):
                system = info.format is BinaryFormat.MACHO and entry.startswith("/usr/lib/")
                assert entry.startswith(("$ORIGIN", "${ORIGIN}", "@")) or system, (name, entry)


def _check_layout(row: dict[str, str], wheel: Path, tmp_path: Path) -> None:
    """Installed, the files land where design section 1 says, compared with paths.json."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        index = json.loads(archive.read(f"{dist_info}/conda/index.json"))
        paths_raw = (
            archive.read(f"{dist_info}/conda/paths.json")
            if f"{dist_info}/conda/paths.json" in names
            else None
        )
    assert index["name"] == row["name"]
    scheme = install_wheel(wheel, tmp_path / "installed")
    if paths_raw is None:
        return
    for entry in json.loads(paths_raw)["paths"]:
        path: str = entry["_path"]
        if path.startswith(("lib/", "include/", "share/", "etc/", "Library/")) and (
            "site-packages/" not in path
        ):
            landed = scheme["data"] / path
            # Links to files of other packages, and needless SONAME-chain links, are
            # dropped (the converter says so); every regular file must be there.
            if entry.get("path_type", "hardlink") == "hardlink":
                assert landed.is_file(), f"{path} did not land at {landed}"
            elif landed.is_dir():
                # Only a link to a folder (paths.json gives it no content) lands as one.
                assert not entry.get("size_in_bytes"), f"{path} landed as a folder at {landed}"


CONVERTIBLE = [row for row in ROWS if row["file"] not in EXPECTED_FAILURES]


@pytest.mark.parametrize("row", CONVERTIBLE, ids=[row["file"] for row in CONVERTIBLE])
def test_inspect_gives_every_binary_a_floor_and_a_verdict(row: dict[str, str]) -> None:
    data = report(inspect_package(CORPUS / row["file"]))
    json.dumps(data)  # what `inspect --json` prints
    verdicts = {(u["binary"], u["needs"]): u["satisfied_by"] for u in data["libraries"]}
    for binary in data["binaries"]:
        if binary["format"] in ("elf", "macho"):
            assert binary["floor"], f"{binary['path']} has no platform floor"
        for needed in binary["needed"]:
            assert verdicts.get((binary["path"], needed)) in {
                "package",
                "dependency",
                "provider",
                "platform",
                "unsatisfied",
            }, f"{binary['path']}: no verdict for {needed}"
