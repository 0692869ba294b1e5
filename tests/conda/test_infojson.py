"""`info/` documents read with bounds, and index.json checked against conda's grammar."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from condawheel.conda.infojson import MAX_DEPTH, loads
from condawheel.conda.package import CondaPackage
from condawheel.exceptions import BadInputError
from condawheel.quoting import one_line, quote
from sample_index import FILENAME, INDEX


def refused(info: dict[str, bytes]) -> str:
    with pytest.raises(BadInputError) as caught:
        CondaPackage.from_info(FILENAME, info)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 500, message
    assert message.startswith(FILENAME), message
    return message


def with_index(**changes: Any) -> dict[str, bytes]:
    return {"index.json": json.dumps({**INDEX, **changes}).encode()}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}", "nested deeper"),
        (b'{"size": ' + b"9" * 5000 + b"}", "integer of 5000 digits"),
        (b'{"size": NaN}', "NaN is not JSON"),
        (b"\xff\xfe{}", "can't decode"),
    ],
)
def test_json_bounds(raw: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        loads(raw)
    for name in ("index.json", "paths.json", "about.json", "link.json", "run_exports.json"):
        info = {**with_index(), name: raw}
        assert "not valid JSON" in refused(info)


def test_json_within_bounds_reads() -> None:
    assert loads(b'{"a": ' + b"[" * 10 + b"1" + b"]" * 10 + b"}") is not None
    assert loads(b'{"n": ' + b"9" * 20 + b"}") == {"n": int("9" * 20)}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "Foo"),
        ("name", "foo bar"),
        ("name", "foo/bar"),
        ("name", "../foo"),
        ("name", "foo\nbar"),
        ("name", "-foo"),
        ("name", "x" * 200),
        ("name", "\udc80foo"),
        ("name", "foo\u202e"),
        ("name", ["foo"]),
        ("build", "py_0-1"),
        ("build", "0_[]"),
        ("build", "py 0"),
        ("build", "a/b"),
        ("build", "a\x00b"),
        ("build", "b" * 300),
        ("build", ""),
        ("build", 7),
        ("version", "1.0-1"),
        ("version", "1..0"),
        ("version", "1.0\n"),
        ("version", 1.0),
        ("build_number", -5),
        ("build_number", True),
        ("build_number", 10**12),
        ("build_number", "0"),
        ("build_number", 1.5),
        ("timestamp", -1),
        ("timestamp", "yesterday"),
    ],
)
def test_index_fields_conda_refuses(key: str, value: object) -> None:
    message = refused(with_index(**{key: value}))
    assert re.search(rf"index.json (has no )?'?{key}|where a number belongs", message), message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "_libgcc_mutex"),
        ("name", "ld_impl_linux-64"),
        ("name", "python-tzdata"),
        ("build", "h4616a5c_0"),
        ("build", "py312h1234_0_cpython"),
        ("build", "cuda12.0+abc_1"),
        ("version", "2025b"),
        ("version", "1!2.0.post1"),
        ("version", "1.0_beta"),
        ("build_number", 101),
    ],
)
def test_index_fields_conda_allows(key: str, value: object) -> None:
    package = CondaPackage.from_info(FILENAME, with_index(**{key: value}))
    assert getattr(package, key) == value


@pytest.mark.parametrize(
    "path",
    ["lib/a\nb", "lib/a\x00b", "lib/\udcff", "lib/a\u2028b", "lib/" + "x" * 5000],
)
def test_paths_json_path_refused(path: str) -> None:
    paths = {"paths": [{"_path": path, "path_type": "hardlink"}], "paths_version": 1}
    message = refused({**with_index(), "paths.json": json.dumps(paths).encode()})
    assert "member path" in message


def test_has_prefix_with_an_unbalanced_quote() -> None:
    info = {
        **with_index(),
        "files": b"share/a.txt\n",
        "has_prefix": b'/opt/anaconda1anaconda2anaconda3 text "share/a.txt\n',
    }
    assert "info/has_prefix line" in refused(info)


def test_quote_is_short_and_escaped() -> None:
    assert quote("a\nb") == "'a\\nb'"
    long = quote("x" * 10_000)
    assert len(long) < 100 and "10000 characters" in long
    assert "\udc80" not in quote("\udc80")


def test_one_line_keeps_start_and_advice() -> None:
    message = "pkg.conda: " + "y" * 5000 + " rebuild it"
    line = one_line(message + "\nsecond")
    assert "\n" not in line and len(line) <= 480
    assert line.startswith("pkg.conda: ") and line.endswith("second")
    assert one_line("tab\there") == "tab\\there"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sha256", 5),
        ("sha256", "not hex"),
        ("size_in_bytes", -1),
        ("size_in_bytes", True),
        ("size_in_bytes", "12"),
        ("prefix_placeholder", 7),
        ("prefix_placeholder", ["/opt"]),
        ("prefix_placeholder", ""),
        ("prefix_placeholder", "\udc80bad"),
        ("prefix_placeholder", "/opt\x00"),
        ("file_mode", "sideways"),
        ("_path", ["lib/x"]),
    ],
)
def test_paths_json_entry_fields_refused(key: str, value: object) -> None:
    entry = {"_path": "lib/x", "path_type": "hardlink", key: value}
    paths = json.dumps({"paths": [entry], "paths_version": 1}).encode()
    message = refused({**with_index(), "paths.json": paths})
    assert "info/paths.json" in message
