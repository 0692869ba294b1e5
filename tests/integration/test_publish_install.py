"""The publisher's whole path: two converted wheels, one depending on the other, published
to a real pypiserver on 127.0.0.1 with `condawheel publish`, then the top one installed by
name with `condawheel install --index-url` into a fresh conda environment, which imports
both and reaches the conda library underneath. A different file under a published name
is refused.

The wheels: pyanswer (a CPython extension linking libanswer, built by rattler-build from
recipes-sample/) and answer-app, a noarch conda package made in code that depends on
pyanswer; converted, answer-app requires pyanswer as a Python distribution.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from channel import create_environment, find_package, sample_channel
from clirun import one_line, run_cli
from compilers import requires_gcc
from condaenv import add_python, run_python
from condawheel.conversion.core import convert
from condawheel.conversion.plan import ConvertOptions
from servers import isolated_pip, pypiserver
from validator import validate_wheel

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="linux environments"),
    requires_gcc,
]

APP = "import pyanswer\n\n\ndef main():\n    return pyanswer.answer()\n"


@pytest.fixture(scope="module", autouse=True)
def _isolated() -> Iterator[None]:
    """Neither pip's configuration nor keyring credentials of this machine play a part."""
    with isolated_pip(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        yield


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_channel(tmp_path_factory)


@pytest.fixture(scope="module")
def wheels(channel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("publisher")
    app = (
        CondaPackageBuilder(
            name="answer-app", version="1.0", build="pyh0_0", noarch="python",
            depends=["pyanswer >=1.0"],
        )
        .add_file("site-packages/answer_app/__init__.py", APP)
        .build(work / "pkgs")
    )  # fmt: skip
    # pyanswer's package ships no dist-info, so the name map says it is a Python one
    names = work / "names.json"
    names.write_text(json.dumps({"pyanswer": "pyanswer"}))
    pyanswer = find_package(channel, "pyanswer")
    made = {
        "pyanswer": convert(pyanswer, work / "dist", ConvertOptions(with_sources=(channel,))).wheel,
        "answer-app": convert(app, work / "dist", ConvertOptions(name_map=names)).wheel,
    }
    report = validate_wheel(made["answer-app"])
    assert [str(r) for r in report.metadata.requires_dist or []] == ["pyanswer>=1.0"]
    assert "conda_linux_2_17_" in made["pyanswer"].name
    return made


def test_publish_two_wheels_then_install_the_top_one_by_name(
    wheels: dict[str, Path], channel: Path, tmp_path: Path
) -> None:
    packages = tmp_path / "packages"
    with pypiserver(packages) as url:
        published = run_cli(tmp_path, "publish", *wheels.values(), "--repository-url", url)
        assert published.returncode == 0, published.stderr
        assert sorted(p.name for p in packages.iterdir()) == sorted(w.name for w in wheels.values())

        # a fresh environment: libanswer from conda, the machine's CPython as its Python
        prefix = add_python(create_environment(tmp_path / "env", channel, ["libanswer"]))
        installed = run_cli(
            tmp_path, "install", "answer-app", "--index-url", f"{url}simple/",
            "--prefix", prefix, "--json",
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr
        fetched = {entry["name"] for entry in json.loads(installed.stdout)["index"]["fetched"]}
        assert fetched == {"answer-app", "pyanswer"}

        ran = run_python(prefix, "import answer_app; print(answer_app.main())")
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == "42"

        # the same name with other bytes (another SOURCE_DATE_EPOCH) is refused
        other = tmp_path / "other"
        again = run_cli(
            tmp_path, "convert", find_package(channel, "pyanswer"), "-w", other,
            "--with", channel, env={"SOURCE_DATE_EPOCH": "1000000000"},
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        (different,) = other.glob("*.whl")
        assert different.name == wheels["pyanswer"].name
        refused = run_cli(tmp_path, "publish", different, "--repository-url", url)
        assert refused.returncode == 2
        assert "different" in one_line(refused.stderr).lower()
        assert (packages / different.name).read_bytes() == wheels["pyanswer"].read_bytes()
