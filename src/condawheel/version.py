"""The version of condawheel, one place for the package, its metadata and --version."""

__version__ = "0.1.0"
