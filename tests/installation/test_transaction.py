"""Every change an installation makes is undone when it fails, kept when it succeeds,
and rolled back by the next run when the installer was killed half way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from condawheel.installation.transaction import STATE_DIR, RollbackError, Transaction, recover


def _tree(root: Path) -> dict[str, str | None]:
    return {
        str(p.relative_to(root)): (p.read_text() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def _changes(transaction: Transaction, root: Path) -> None:
    transaction.move_aside([root / "old" / "module.py"])
    transaction.remove_empty_dir(root / "old")
    new = root / "new" / "deep" / "file.txt"
    transaction.make_parents([new])
    transaction.will_create([new])
    new.write_text("new\n")
    transaction.will_create_tree(root / "tree")
    (root / "tree" / "sub").mkdir(parents=True)
    (root / "tree" / "sub" / "f").write_text("f\n")


def _prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "env"
    (prefix / "old").mkdir(parents=True)
    (prefix / "old" / "module.py").write_text("old\n")
    (prefix / "keep.txt").write_text("keep\n")
    return prefix


def test_failure_puts_everything_back(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    before = _tree(prefix)
    with pytest.raises(RuntimeError), Transaction(prefix) as transaction:
        _changes(transaction, prefix)
        raise RuntimeError("failed half way")
    assert _tree(prefix) == before


def test_success_keeps_the_changes(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    with Transaction(prefix) as transaction:
        _changes(transaction, prefix)
    tree = _tree(prefix)
    assert tree["new/deep/file.txt"] == "new\n"
    assert "old" not in tree
    assert not (prefix / STATE_DIR / "journal").exists()
    assert not (prefix / STATE_DIR / "aside").exists()


def test_moving_aside_what_is_gone_is_a_no_op(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    with Transaction(prefix) as transaction:
        transaction.move_aside([prefix / "never-there"])


def test_recover_rolls_back_a_journal_left_by_a_kill(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    before = _tree(prefix)
    transaction = Transaction(prefix)
    _changes(transaction, prefix)
    # the process dies here: no commit, no clean-up; a half-written last line
    with (prefix / STATE_DIR / "journal").open("a") as journal:
        journal.write('{"op": "create", "pa')
    recovered = recover(prefix)
    assert recovered is not None
    assert recovered.pid == os.getpid()
    assert not recovered.committed
    assert recovered.undone == 5
    assert _tree(prefix) == before
    assert recover(prefix) is None


def test_recover_finishes_a_committed_transaction(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    transaction = Transaction(prefix)
    _changes(transaction, prefix)
    transaction._log({"op": "commit"})
    recovered = recover(prefix)
    assert recovered is not None and recovered.committed
    assert (prefix / "new" / "deep" / "file.txt").read_text() == "new\n"
    assert not (prefix / STATE_DIR / "aside").exists()


def test_a_journal_naming_paths_outside_the_prefix_is_not_followed(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    (prefix / STATE_DIR).mkdir()
    steps = [
        {"op": "begin", "pid": 1},
        {"op": "create", "paths": [str(victim), f"{prefix}/../victim.txt"]},
    ]
    (prefix / STATE_DIR / "journal").write_text("".join(json.dumps(s) + "\n" for s in steps))
    with pytest.raises(RollbackError, match="outside the prefix"):
        recover(prefix)
    assert victim.read_text() == "mine\n"


def test_a_rollback_cut_short_is_finished_without_undoing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = _prefix(tmp_path)
    (prefix / "data.txt").write_text("original\n")
    before = _tree(prefix)
    transaction = Transaction(prefix)
    transaction.move_aside([prefix / "data.txt"])
    transaction.will_create([prefix / "data.txt"])
    (prefix / "data.txt").write_text("new\n")
    _changes(transaction, prefix)
    # killed; then the recovery itself is killed after it put everything back, before
    # it dropped the journal: the next one must not remove data.txt as a new file
    import condawheel.installation.transaction as module

    def killed(prefix: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "_finish", killed)
    with pytest.raises(KeyboardInterrupt):
        recover(prefix)
    monkeypatch.undo()
    assert recover(prefix) is not None
    assert _tree(prefix) == before
