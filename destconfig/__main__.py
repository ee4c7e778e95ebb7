"""``python -m destconfig``."""

from __future__ import annotations

import sys

from destconfig.cli import main

sys.exit(main())
