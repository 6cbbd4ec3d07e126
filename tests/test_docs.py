"""The documentation's promises (its ``>>>`` examples run as doctests:
pytest collects docs/user_guide/*.rst, see pyproject.toml)."""

from pathlib import Path

import skla

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_user_guide_is_collected_as_doctests():
    import tomllib

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
