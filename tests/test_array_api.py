"""Runs ``tests/array_api``, scikit-learn's array-API checks of
``test_common.py`` and the user guide's ``gpu.rst`` in a subprocess with
``SCIPY_ARRAY_API=1``.

scikit-learn's array-API dispatch needs that variable set before scipy is
imported; setting it for the whole suite would change how scipy runs
everywhere else, so only this subprocess sees it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("array_api_strict")

TESTS = Path(__file__).parent


def test_array_api_suite_in_a_subprocess():
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-v",
        "-p",
        "no:cacheprovider",
        str(TESTS / "array_api"),
        str(TESTS / "test_common.py"),
        str(TESTS.parent / "docs" / "user_guide" / "gpu.rst"),
        "-k",
        "array_api or gpu",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in summary, summary
    assert "gpu.rst::gpu.rst PASSED" in done.stdout, "gpu.rst's examples did not run"
