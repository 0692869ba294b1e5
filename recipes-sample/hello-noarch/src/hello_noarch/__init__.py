"""A pure-Python package with a console entry point."""

__version__ = "1.0.0"


def greeting(name: str = "world") -> str:
    return f"Hello, {name}!"
