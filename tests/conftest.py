"""Fixtures shared by the test modules."""

import logging
import tracemalloc

import pytest


@pytest.fixture(scope="session")
def client():
    """A ``distributed.Client`` on a LocalCluster on 127.0.0.1 only: two
    worker processes with 1 GiB each, one thread each, closed after the run
    (skipped where distributed is not installed)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # None alone still binds the scheduler's HTTP routes to port 8787
        # (a warning when it is taken): a free port on 127.0.0.1 instead.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        memory_limit="1GiB",
        silence_logs=logging.ERROR,
    )
    with cluster, distributed.Client(cluster, timeout="60s") as client:
        yield client


@pytest.fixture
def traced_peak():
    """``traced_peak(call)``: tracemalloc's peak, in bytes, while ``call()``
    runs (what Python and numpy allocate; tracing stops whatever happens)."""

    def measure(call):
        tracemalloc.start()
        try:
            call()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    return measure
