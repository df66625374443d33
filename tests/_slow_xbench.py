"""``python tests/_slow_xbench.py run ...``: the xbench CLI with a slow test method ``test-slow``.

Used by test_shared_folder.py to run real, concurrent ``xbench run`` processes: ``test-slow``
sleeps ``XBENCH_TEST_SLEEP`` seconds per epoch and appends one line per training (pid and
run label) to the file named by ``XBENCH_TEST_TRAIN_LOG``.
"""

from __future__ import annotations

import os
import time

from xbench import methods
from xbench.cli import main
from xbench.methods.lsh import LSH


class SlowLSH(LSH):
    name = "test-slow"
    description = "LSH that sleeps while training and logs each training (test only)"
    default_epochs = 1

    def fit_epoch(self, data, epoch):
        if epoch == 0:
            with open(os.environ["XBENCH_TEST_TRAIN_LOG"], "a") as fh:
                fh.write(f"{os.getpid()} {self.bits} {self.seed}\n")
        time.sleep(float(os.environ.get("XBENCH_TEST_SLEEP", "1")))
        return super().fit_epoch(data, epoch) or {"loss": 0.0}


if __name__ == "__main__":
    methods.registry.register(SlowLSH.name, SlowLSH, replace=True)
    main()
