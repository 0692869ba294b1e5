"""The input side: conda packages read as streams, their info/ model, match specs, channels and
caches. Knows nothing of wheels.
"""
