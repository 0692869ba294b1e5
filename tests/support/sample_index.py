"""A valid index.json and its file name, for the info/ readers' tests."""

from __future__ import annotations

FILENAME = "foo-1.0-py312_0.conda"
INDEX = {
    "name": "foo",
    "version": "1.0",
    "build": "py312_0",
    "build_number": 0,
    "subdir": "linux-64",
    "depends": ["python >=3.12,<3.13.0a0", "libzlib >=1.3.1,<2.0a0"],
    "constrains": ["bar >=2"],
    "license": "MIT",
    "timestamp": 1700000000000,
}
