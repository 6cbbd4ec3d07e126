"""Pluggable components: small protocols and their implementations.

Each module holds one kind of component; the registry in :mod:`skla.plugins`
maps names to them.
"""

# Importing the modules registers skla's own components (plugins.py imports
# none of them: the registry sits below the components).
from . import losses, lstsq, penalties, schedules, step_sizes, svd, svds  # noqa: F401
