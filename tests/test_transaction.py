"""Every change an installation makes is undone when it fails, and kept when it succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from condawheel.transaction import Transaction


def _tree(root: Path) -> dict[str, str | None]:
    return {
        str(p.relative_to(root)): (p.read_text() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def test_failure_puts_everything_back(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "module.py").write_text("old\n")
    (tmp_path / "empty").mkdir()
    before = _tree(tmp_path)
    with pytest.raises(RuntimeError), Transaction() as transaction:
        transaction.remove(tmp_path / "old" / "module.py")
        transaction.remove_empty_dir(tmp_path / "empty")
        new = tmp_path / "new" / "deep" / "file.txt"
        transaction.create(new)
        new.write_text("new\n")
        raise RuntimeError("failed half way")
    assert _tree(tmp_path) == before


def test_success_keeps_the_changes(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text("old\n")
    with Transaction() as transaction:
        transaction.remove(tmp_path / "old.py")
        transaction.create(tmp_path / "pkg" / "new.py")
        (tmp_path / "pkg" / "new.py").write_text("new\n")
    assert _tree(tmp_path) == {"pkg": None, "pkg/new.py": "new\n"}


def test_removing_what_is_gone_is_a_no_op(tmp_path: Path) -> None:
    with Transaction() as transaction:
        transaction.remove(tmp_path / "never-there")
