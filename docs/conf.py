"""Sphinx configuration for skla's documentation.

Build with ``python -m pip install ".[docs]" && python -m sphinx -W -b html docs
docs/_build/html`` (see the README).
"""

import os
import socket
import warnings

import skla

project = "skla"
author = "The skla developers"
copyright = "2026, the skla developers"
version = release = skla.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax shipped with the docs, not fetched from a CDN: the formulas
    # render on machines without internet access.
    "sphinx-mathjax-offline",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]

templates_path = ["_templates"]
autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = "skla"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib")


def _online(host="docs.scipy.org", port=443, timeout=2.0):
    """Whether the build machine can reach the documentation sites."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


# Links to numpy, scipy and scikit-learn resolve when their sites are
# reachable; offline (as on the CI machines) the names stay plain text rather
# than failing the warnings-as-errors build.
if os.environ.get("SKLA_DOCS_INTERSPHINX", "auto") != "off" and _online():
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3/", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "PIL": ("https://pillow.readthedocs.io/en/stable/", None),
    }
else:
    intersphinx_mapping = {}


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document skla's own methods, not those inherited from scikit-learn.

    Inherited docstrings (``score``, ``set_fit_request``...) cite labels of
    scikit-learn's own site, which do not exist here.
    """
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and callable(obj) and not module.startswith("skla"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
