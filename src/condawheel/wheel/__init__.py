"""Wheels as files: writing, reading, verifying and checking them, the conda platform tag
codec, and prefix.json.
"""
