"""``python -m dorfkarte``."""

import sys

from dorfkarte.cli import main

if __name__ == "__main__":
    sys.exit(main())
