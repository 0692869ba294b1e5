#!/usr/bin/env bash
# Install condawheel (with its test tools) into .venv, then build a real conda
# package from examples/hello and convert it into a wheel. The package is made
# here, so the conversion itself needs no network.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
package=$(.venv/bin/python examples/make_example_package.py build/example)
.venv/bin/condawheel inspect "$package"
.venv/bin/condawheel convert "$package" -w dist --overwrite
