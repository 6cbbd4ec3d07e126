"""``python -m skla``: the command line (see :mod:`skla._cli`)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
