"""The documentation's promises (its ``>>>`` examples run as doctests:
pytest collects docs/user_guide/*.rst, see pyproject.toml)."""

from pathlib import Path

import pytest

import skla

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_user_guide_is_collected_as_doctests():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")

    config = tomllib.loads((DOCS.parent / "pyproject.toml").read_text())
    pytest_config = config["tool"]["pytest"]["ini_options"]
    assert "docs/user_guide" in pytest_config["testpaths"]
    assert "--doctest-glob=*.rst" in pytest_config["addopts"]
    assert all(">>>" in page.read_text() for page in DOCS.glob("user_guide/*.rst"))


def test_every_kind_is_in_the_extending_page():
    text = (DOCS / "user_guide" / "extending.rst").read_text()
    for kind in skla.kinds():
        assert f"``{kind}``" in text
        assert skla.describe(kind)["group"] in text


def _api_names():
    import re

    return re.findall(r"^   ([\w.]+)$", (DOCS / "api.rst").read_text(), re.M)


def test_every_documented_name_exists_and_has_examples():
    import importlib
    import inspect

    names = _api_names()
    assert "SGDMiniBatchRegressor" in names
    missing = []
    for name in names:
        obj = skla
        for part in name.split("."):
            if hasattr(obj, part):
                obj = getattr(obj, part)
            else:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
        if "Examples\n--------" not in (inspect.getdoc(obj) or ""):
            missing.append(name)
    assert missing == []


def test_every_public_estimator_and_registry_function_is_documented():
    from skla.utils.discovery import all_estimators

    names = set(_api_names())
    public = {name for name, _ in all_estimators()}
    public |= set(skla.__all__) - {"__version__"}
    assert public <= names
