"""SGDMiniBatchRegressor on dask: epochs over ``da.from_array`` chunks.

The input's graph embeds the data; before issue 23 every chunk step of
every epoch sent it to a worker again.  Times 5 epochs (``tol=None``) on a
2-worker LocalCluster on 127.0.0.1, with skla imported from each source
tree given (each tree in its own process), best of 3 fits::

    git worktree add /tmp/base a45198d
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_dask_sgd.py /tmp/base .
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import warnings
from pathlib import Path


def _time(tree, repeats=3):
    sys.path.insert(0, str(Path(tree).resolve()))
    import dask.array as da
    import distributed
    import numpy as np

    import skla

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200_000, 10))
    y = X @ rng.standard_normal(10) + rng.standard_normal(200_000)
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        # dashboard_address=None still binds the scheduler's HTTP routes to
        # port 8787 ("Port 8787 is already in use" on a shared machine).
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        memory_limit="2GiB",
        silence_logs=logging.ERROR,
    )
    with cluster, distributed.Client(cluster):
        Xd, yd = da.from_array(X, chunks=(25_000, 10)), da.from_array(y, chunks=25_000)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 5 epochs, not to convergence
                model = skla.SGDMiniBatchRegressor(max_iter=5, tol=None, random_state=0)
                model.fit(Xd, yd)
            times.append(time.perf_counter() - start)
    return min(times), skla.__file__


def main():
    if sys.argv[1:2] == ["--worker"]:
        best, where = _time(sys.argv[2])
        print(f"{best:.3f} {where}")
        return
    print("| tree | 5 epochs, 8 chunks (s) |\n|---|---:|")
    for tree in sys.argv[1:]:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", tree],
            capture_output=True,
            text=True,
            check=True,
        )
        best = done.stdout.split()[0]
        print(f"| {tree} | {best} |")


if __name__ == "__main__":
    main()
