"""``python -m xbench.perf``: the evaluator benchmark (:mod:`xbench.perf.evaluator`)."""

import sys

from xbench.perf.evaluator import main

sys.exit(main())
