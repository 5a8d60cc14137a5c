"""`python -m gancourse`: the command line lives in gancourse.cli."""

import sys

from gancourse.cli import main

if __name__ == "__main__":
    sys.exit(main())
