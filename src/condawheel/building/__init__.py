"""Building conda recipes (rattler-build, conda-build) and converting what they built; sdists;
cibuildwheel.
"""
