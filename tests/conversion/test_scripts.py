"""Script shebangs: conda's prefix interpreter becomes `#!python` (design sections 1, 4)."""

from __future__ import annotations

import pytest

from condawheel.conversion.scripts import rewrite_shebang

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
LONG_PLACEHOLDER = (
    "/home/conda/feedstock_root/build_artifacts/foo_1700000000000/_h_env" + "_placehold" * 18
)
BODY = b"import sys\nfrom foo.cli import main\nsys.exit(main())\n"


@pytest.mark.parametrize(
    ("shebang", "expected"),
    [
        (b"#!/opt/anaconda1anaconda2anaconda3/bin/python3.12\n", b"#!python\n"),
        (b"#!/opt/anaconda1anaconda2anaconda3/bin/python\n", b"#!python\n"),
        (b"#!/opt/anaconda1anaconda2anaconda3/bin/python3.13t\n", b"#!python\n"),
        (b"#!/opt/anaconda1anaconda2anaconda3/bin/python3.12 -E -s\n", b"#!python\n"),
        (b"#!/opt/anaconda1anaconda2anaconda3/bin/pythonw\n", b"#!pythonw\n"),
        (b"#!/opt/anaconda1anaconda2anaconda3/bin/pythonw3.12\n", b"#!pythonw\n"),
        (b"#!/opt/anaconda1anaconda2anaconda3/bin/python3.12\r\n", b"#!python\n"),
        (b"#!/usr/bin/env python3\n", b"#!python\n"),
        (b"#!/usr/bin/env python\n", b"#!python\n"),
        (b"#!/usr/bin/env python3.12 -u\n", b"#!python\n"),
    ],
)
def test_python_shebangs_become_python(shebang: bytes, expected: bytes) -> None:
    assert rewrite_shebang(shebang + BODY, PLACEHOLDER) == expected + BODY


def test_long_placeholder() -> None:
    script = f"#!{LONG_PLACEHOLDER}/bin/python3.12\n".encode() + BODY
    assert rewrite_shebang(script, LONG_PLACEHOLDER) == b"#!python\n" + BODY


def test_env_python_without_a_placeholder() -> None:
    assert rewrite_shebang(b"#!/usr/bin/env python3\n" + BODY, None) == b"#!python\n" + BODY


@pytest.mark.parametrize(
    "shebang",
    [
        b"#!/bin/bash\n",
        b"#!/bin/sh\n",
        b"#!/usr/bin/env bash\n",
        b"#!/usr/bin/env perl\n",
        b"#!/opt/anaconda1anaconda2anaconda3/bin/perl\n",
        # A system Python, not the conda prefix's: left alone.
        b"#!/usr/bin/python3\n",
        b"#!/usr/local/bin/python3.12\n",
        # Not an interpreter at all.
        b"#!/opt/anaconda1anaconda2anaconda3/bin/python3.12-config\n",
    ],
)
def test_other_scripts_are_left_alone(shebang: bytes) -> None:
    assert rewrite_shebang(shebang + b"echo hi\n", PLACEHOLDER) is None


def test_prefix_python_without_a_placeholder_is_left_alone() -> None:
    script = b"#!/opt/anaconda1anaconda2anaconda3/bin/python3.12\n" + BODY
    assert rewrite_shebang(script, None) is None


def test_another_prefix_is_left_alone() -> None:
    script = b"#!/home/someone/miniforge3/bin/python3.12\n" + BODY
    assert rewrite_shebang(script, PLACEHOLDER) is None


def test_no_shebang() -> None:
    assert rewrite_shebang(BODY, PLACEHOLDER) is None
    assert rewrite_shebang(b"", PLACEHOLDER) is None
    assert rewrite_shebang(b"\x7fELF\x02\x01\x01\x00", PLACEHOLDER) is None


@pytest.mark.parametrize(
    ("exec_line", "expected"),
    [
        (b"'''exec' /long/prefix/bin/python \"$0\" \"$@\"\n", b"#!python\n"),
        (b'\'\'\'exec\' "/long/prefix/bin/python3.12" "$0" "$@"\n', b"#!python\n"),
        (b"'''exec' /long/prefix/bin/pythonw \"$0\" \"$@\"\n", b"#!pythonw\n"),
    ],
)
def test_long_prefix_trampoline(exec_line: bytes, expected: bytes) -> None:
    # conda-build's workaround for a prefix longer than a shebang line may be.
    script = b"#!/bin/sh\n" + exec_line + b"' '''\n" + BODY
    assert rewrite_shebang(script, PLACEHOLDER) == expected + BODY
