"""cli/output.py: the exact lines the commands write, on the stream each belongs to."""

from __future__ import annotations

import json
import logging

import pytest

from condawheel.cli import output


def test_error_warning_and_say_go_to_stderr_with_the_program_prefix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.error("no such file: a.conda")
    output.warning("a.conda", "no license file")
    output.say("waiting for pid 12 to finish")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "condawheel: error: no such file: a.conda\n"
        "condawheel: warning: a.conda: no license file\n"
        "condawheel: waiting for pid 12 to finish\n"
    )


def test_interrupted_without_a_reason_ends_at_the_word(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.interrupted("")
    output.interrupted("by SIGTERM")
    assert (
        capsys.readouterr().err == "condawheel: interrupted\ncondawheel: interrupted by SIGTERM\n"
    )


def test_internal_error_names_the_exception_and_how_to_see_more(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.internal_error(ValueError("bad"))
    assert capsys.readouterr().err == (
        "condawheel: internal error: ValueError: bad "
        "(rerun with -v for the traceback, and please report it)\n"
    )


def test_log_tail_and_notes_are_plain_stderr_lines(capsys: pytest.CaptureFixture[str]) -> None:
    output.log_tail(["first", "last"])
    output.note("removed vendored libz.so.1")
    assert capsys.readouterr().err == "  | first\n  | last\nremoved vendored libz.so.1\n"


def test_results_and_json_go_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    output.line("dist/a-1.0-py3-none-any.whl")
    output.json_line({"b": 1, "a": [2]})
    output.json_document({"b": 1, "a": [2]})
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[:2] == ["dist/a-1.0-py3-none-any.whl", '{"a": [2], "b": 1}']
    document = "\n".join(lines[2:])
    assert document == json.dumps({"a": [2], "b": 1}, indent=2)
    assert json.loads(document) == {"a": [2], "b": 1}


def test_log_records_carry_the_same_prefix() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "fetched %s", ("a",), None)
    assert logging.Formatter(output.LOG_FORMAT).format(record) == "condawheel: fetched a"
