"""The name checks the bundle layouts share (each layout's tests try hostile names too)."""

from __future__ import annotations

import pytest

from condawheel.libraries.bundle_names import (
    BundleNameError,
    content_tag,
    library_file_name,
    wheel_path,
)


def test_shared_checks() -> None:
    assert library_file_name("@rpath/libz.1.dylib", path_allowed=True) == "libz.1.dylib"
    assert wheel_path("pkg/.dylibs/libz.dylib") == "pkg/.dylibs/libz.dylib"
    assert content_tag("AB" * 32, 8) == "abababab"
    for bad in ("", "a//b", "a/", "C:/x", "a\\b", "a/\x00"):
        with pytest.raises(BundleNameError):
            wheel_path(bad)
