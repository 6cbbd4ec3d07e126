"""The "?" link of an estimator's HTML repr (in a notebook) to its API page.

scikit-learn's HTML repr links each estimator to the page that
:meth:`_get_doc_link` returns (``sklearn.utils._repr_html.base.
_HTMLDocumentationLinkMixin``): a class attribute ``_doc_link_template``
formatted with the keywords ``_doc_link_url_param_generator`` returns, for
classes whose root module is ``_doc_link_module``.  skla's API pages are
autosummary's ``generated/skla.<Name>.html`` (docs/api.rst), under
:data:`DOCS_URL`.

:data:`DOCS_URL` is the one base of every link: set the environment variable
``SKLA_DOCS_URL`` before importing skla (a local build,
``file:///.../docs/_build/html``), or assign ``skla._doc_links.DOCS_URL`` at
run time -- links are built when the repr is drawn.
"""

from __future__ import annotations

import os

__all__ = ["DOCS_URL", "DocLinkMixin"]

#: Where skla's HTML documentation is served (no trailing slash).
DOCS_URL = os.environ.get("SKLA_DOCS_URL", "https://skla.readthedocs.io/en/stable")


class DocLinkMixin:
    """Links skla's estimators to ``{DOCS_URL}/generated/skla.<Name>.html``.

    Placed before :class:`~sklearn.base.BaseEstimator` among the bases, so
    that these attributes replace scikit-learn's (whose link would name the
    module the class is defined in, ``skla.linear_model``, rather than
    ``skla``, where the API reference documents it).  A subclass defined
    outside skla gets no link, as in scikit-learn.
    """

    _doc_link_module = "skla"
    _doc_link_template = "{base}/generated/skla.{estimator_name}.html"

    def _doc_link_url_param_generator(self) -> dict[str, str]:
        return {
            "base": DOCS_URL.rstrip("/"),
            "estimator_name": type(self).__name__,
        }
