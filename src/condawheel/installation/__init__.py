"""Installing wheels into a conda environment: checks, a journalled transaction, and pip for
install by name.
"""
