#!/usr/bin/env bash
# Install condawheel (with its test tools) into .venv, then build the sample C library
# recipe recipes-sample/libanswer with rattler-build and convert what it built: the
# conda package goes to dist/conda/<subdir>/, its wheel to dist/. The recipe needs
# nothing from a channel and compiles with the machine's gcc, so this works offline.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/condawheel build recipes-sample/libanswer -w dist
.venv/bin/condawheel inspect dist/conda/*/libanswer-1.0.0-*.conda
