"""Mirroring a channel: every build converted into a folder of wheels, incrementally."""
