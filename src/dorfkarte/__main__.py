"""``python -m dorfkarte``."""

import sys

from dorfkarte.cli import main

sys.exit(main())
