"""``python -m sim``: the planner's command line (see ``sim.cli``)."""

import sys

from sim.cli import main

sys.exit(main())
