"""What a plain ``pytest`` run leaves out.

The array-API tests and the user guide's ``gpu.rst`` need
``SCIPY_ARRAY_API=1`` set before scipy is imported, which would change how
scipy runs for the whole suite; ``tests/test_array_api.py`` runs them in a
subprocess that sets it.
"""

import os

collect_ignore_glob = []
if os.environ.get("SCIPY_ARRAY_API") != "1":
    collect_ignore_glob = ["tests/array_api/*", "docs/user_guide/gpu.rst"]
