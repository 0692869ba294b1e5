"""The ``hello-noarch`` command."""

import sys

from hello_noarch import greeting


def main() -> int:
    print(greeting(*sys.argv[1:2]))
    return 0
