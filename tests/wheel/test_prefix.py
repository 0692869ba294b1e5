"""Prefix placeholders: the manifest, and text and binary replacement as conda does it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builders import PREFIX_PLACEHOLDER
from condawheel.exceptions import BadInputError
from condawheel.wheel.prefix import (
    PaddingError,
    PlaceholderFile,
    read_manifest,
    replace_binary,
    replace_in_file,
    replace_text,
)

PLACEHOLDER = PREFIX_PLACEHOLDER.encode()


def _manifest(files: object, version: object = 1) -> bytes:
    return json.dumps({"version": version, "files": files}).encode()


def test_manifest_entries() -> None:
    entries = read_manifest(
        _manifest(
            [
                {
                    "path": "a.data/data/etc/x",
                    "conda_path": "etc/x",
                    "placeholder": "/p",
                    "mode": "text",
                },
                {
                    "path": "a.data/data/lib/y",
                    "conda_path": "lib/y",
                    "placeholder": "/p",
                    "mode": "binary",
                },
            ]
        ),
        "a.whl",
    )
    assert entries == (
        PlaceholderFile(path="a.data/data/etc/x", placeholder="/p", mode="text"),
        PlaceholderFile(path="a.data/data/lib/y", placeholder="/p", mode="binary"),
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "is not JSON"),
        (_manifest([], version=2), "is not version 1"),
        (_manifest("nope"), "has no 'files' list"),
        (_manifest([{"path": "x", "placeholder": "/p", "mode": "weird"}]), "malformed entry"),
        (_manifest([{"path": "x", "placeholder": "", "mode": "text"}]), "malformed entry"),
    ],
)
def test_bad_manifest(data: bytes, message: str) -> None:
    with pytest.raises(BadInputError, match=message) as caught:
        read_manifest(data, "a.whl")
    assert str(caught.value).startswith("a.whl: ")
    assert "\n" not in str(caught.value)


def test_text_replaces_every_occurrence() -> None:
    data = f"a={PREFIX_PLACEHOLDER}/bin\nb={PREFIX_PLACEHOLDER}\n".encode()
    assert replace_text(data, PLACEHOLDER, b"/opt/env") == b"a=/opt/env/bin\nb=/opt/env\n"


def test_binary_keeps_length_and_pads_each_string() -> None:
    data = (
        b"\x7fELF\0"
        + PLACEHOLDER
        + b"/lib\0"
        + b"pre:"
        + PLACEHOLDER
        + b"/a:"
        + PLACEHOLDER
        + b"/b\0tail"
    )
    result = replace_binary(data, PLACEHOLDER, b"/opt/env")
    assert len(result) == len(data)
    assert PLACEHOLDER not in result
    strings = result.split(b"\0")
    assert strings[0] == b"\x7fELF"
    assert strings[1] == b"/opt/env/lib"
    # the NULs that pad the first string follow its terminator, so the next string starts
    # at the same offset as before
    second = result.index(b"pre:")
    assert second == data.index(b"pre:")
    assert result[second:].startswith(b"pre:/opt/env/a:/opt/env/b\0")
    assert result.endswith(b"\0tail")
    padding = re.search(rb"/opt/env/b(\0+)tail", result)
    assert padding is not None
    assert len(padding.group(1)) == 1 + 2 * (len(PLACEHOLDER) - len(b"/opt/env"))


def test_binary_refuses_a_longer_prefix() -> None:
    with pytest.raises(PaddingError, match="longer than the placeholder"):
        replace_binary(b"/short/x\0", b"/short", b"/a/much/longer/prefix")


def test_binary_without_placeholder_is_unchanged() -> None:
    data = b"\0nothing here\0"
    assert replace_binary(data, PLACEHOLDER, b"/opt/env") == data


def test_replace_in_file(tmp_path: Path) -> None:
    text, blob = tmp_path / "conf", tmp_path / "blob"
    text.write_bytes(f"prefix={PREFIX_PLACEHOLDER}\n".encode())
    blob.write_bytes(b"\0" + PLACEHOLDER + b"/share\0end")
    blob.chmod(0o755)
    size = blob.stat().st_size

    assert replace_in_file(
        text, PlaceholderFile(path="c", placeholder=PREFIX_PLACEHOLDER, mode="text"), "/e"
    )
    binary = PlaceholderFile(path="b", placeholder=PREFIX_PLACEHOLDER, mode="binary")
    assert replace_in_file(blob, binary, "/e")
    assert text.read_text() == "prefix=/e\n"
    assert blob.stat().st_size == size
    assert blob.read_bytes().startswith(b"\0/e/share\0\0")
    assert blob.stat().st_mode & 0o777 == 0o755
    assert not replace_in_file(blob, binary, "/e")  # nothing left to replace


def test_replace_in_file_names_the_file_when_the_prefix_is_too_long(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"/p/x\0")
    entry = PlaceholderFile(path="b", placeholder="/p", mode="binary")
    with pytest.raises(PaddingError, match=rf"^{re.escape(str(blob))}: .*shorter path"):
        replace_in_file(blob, entry, "/longer")
    assert blob.read_bytes() == b"/p/x\0"
