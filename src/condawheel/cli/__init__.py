"""The command line: parse, call the library, print results and one-line errors, map errors to
exit codes.
"""
