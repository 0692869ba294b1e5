"""condawheel: turn conda packages into wheels that use conda's shared libraries."""

from __future__ import annotations

__version__ = "0.1.0"
