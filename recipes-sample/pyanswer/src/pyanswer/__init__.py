"""The answer, from the C library libanswer."""

from pyanswer._answer import answer, libanswer_version

__all__ = ["answer", "libanswer_version"]
