"""``python -m runners.cli``: the ``selbench`` command."""

import sys

from runners.cli import main

sys.exit(main())
