"""Which shared library each conda package provides, what the platform provides, and de-
vendoring decisions.
"""
