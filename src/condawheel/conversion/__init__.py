"""A conda package (or a built wheel, for repair) becomes a wheel: plan, payload, binary edits,
metadata.
"""
