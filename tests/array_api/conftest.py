"""The array-API tests need ``SCIPY_ARRAY_API=1`` set before scipy is
imported, which would change how scipy runs for the whole suite; so
``tests/test_array_api.py`` runs this folder in a subprocess with it set,
and a plain ``pytest`` run skips it here."""

import os

import pytest

collect_ignore_glob = []
if os.environ.get("SCIPY_ARRAY_API") != "1":
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(params=["float64", "float32"])
def dtype_name(request):
    return request.param
