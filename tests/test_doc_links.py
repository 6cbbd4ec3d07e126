"""The "?" link of the estimators' HTML repr: their page in skla's API docs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skla import _doc_links
from skla.utils import all_estimators

ESTIMATORS = all_estimators()
API = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def _page(base, name):
    return f"{base}/generated/skla.{name}.html"


@pytest.mark.parametrize(
    ("name", "Estimator"), ESTIMATORS, ids=[n for n, _ in ESTIMATORS]
)
def test_the_repr_links_to_the_api_page(name, Estimator):
    estimator = Estimator()
    link = _page(_doc_links.DOCS_URL, name)
    assert estimator._get_doc_link() == link
    assert f'href="{link}"' in estimator._repr_html_()


def test_the_pages_are_those_autosummary_generates():
    """docs/api.rst documents each estimator as ``skla.<Name>`` in autosummary's
    ``generated`` folder: the page the links name."""
    text = API.read_text()
    section = text[: text.index("The registry")]
    assert ".. currentmodule:: skla" in section
    assert ":toctree: generated" in section
    listed = set(re.findall(r"^   (\w+)$", section, flags=re.MULTILINE))
    assert listed == {name for name, _ in ESTIMATORS}


@pytest.mark.parametrize("base", ["https://example.org/skla/0.1", "file:///d/html/"])
def test_one_constant_sets_every_link(monkeypatch, base):
    monkeypatch.setattr(_doc_links, "DOCS_URL", base)
    for name, Estimator in ESTIMATORS:
        link = Estimator()._get_doc_link()
        assert link == _page(base.rstrip("/"), name)
        assert "//generated" not in link


def test_the_environment_variable_sets_the_base():
    code = "import skla; print(skla.PinvRegressor()._get_doc_link())"
    env = {**os.environ, "SKLA_DOCS_URL": "http://localhost:8000"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == _page("http://localhost:8000", "PinvRegressor")


def test_subclasses_outside_skla_get_no_link():
    """As in scikit-learn: a link only for the package's own classes."""
    _, Estimator = ESTIMATORS[0]
    Subclass = type("Subclass", (Estimator,), {"__module__": "my_package.models"})
    assert Subclass()._get_doc_link() == ""
