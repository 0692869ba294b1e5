"""Deep Thought: asks libanswer, through a CPython extension, the ultimate question."""

from deepthought._core import ultimate_answer

__all__ = ["ultimate_answer"]
