"""The public API: every name in ``__all__`` resolves, and importing condawheel is light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import condawheel


def test_every_public_name_resolves() -> None:
    for name in condawheel.__all__:
        assert getattr(condawheel, name) is not None, name
    assert condawheel.convert.__module__ == "condawheel.conversion.core"
    assert issubclass(condawheel.BadInputError, condawheel.CondawheelError)


def test_unknown_names_are_attribute_errors() -> None:
    assert not hasattr(condawheel, "no_such_name")


def test_importing_the_package_imports_no_command() -> None:
    code = (
        "import sys, condawheel\n"
        "print(sorted(m for m in sys.modules if m.startswith('condawheel')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['condawheel', 'condawheel.version']"


def test_the_package_is_typed() -> None:
    assert (Path(condawheel.__file__).parent / "py.typed").is_file()
