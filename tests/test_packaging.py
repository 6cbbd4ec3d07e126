"""The release files agree with the package: license, version, classifiers,
and a sdist that carries what its own configured test run reads (the build
itself is checked by .ci/run: ``python -m build`` and ``twine check``)."""

import re
from pathlib import Path

import skla

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's own dependency
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_bsd3_and_shipped():
    project = PROJECT["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Copyright (c) 2026, the skla developers" in text
    assert "Redistributions in binary form" in text
    # PEP 639: no license classifier beside a license expression.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_classifiers_list_the_supported_pythons():
    project = PROJECT["project"]
    assert project["requires-python"] == ">=3.10"
    listed = {
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert listed == {"3.10", "3.11", "3.12", "3.13"}
    assert "Typing :: Typed" in project["classifiers"]


def test_citation_and_changelog_name_this_version():
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^cff-version: 1\.2\.0$", citation, re.M)
    assert re.search(rf"^version: {re.escape(skla.__version__)}$", citation, re.M)
    assert re.search(r"^license: BSD-3-Clause$", citation, re.M)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"\n## {skla.__version__}\n" in changelog


def test_sdist_manifest_carries_the_configured_test_run():
    manifest = (ROOT / "MANIFEST.in").read_text().splitlines()
    included = {
        word
        for line in manifest
        if line.startswith("include ")
        for word in line.split()[1:]
    }
    grafted = {line.split()[1] for line in manifest if line.startswith("graft ")}
    assert {"LICENSE", "conftest.py", "README.md"} <= included
    testpaths = PROJECT["tool"]["pytest"]["ini_options"]["testpaths"]
    for path in testpaths:
        if path != "skla":  # the package itself is always in the sdist
            assert any(path == g or path.startswith(g + "/") for g in grafted), path
    # Read by tests/test_docs.py, test_examples.py, test_benchmarks.py and
    # test_readme.py.
    assert {"docs", "examples", "benchmarks", ".ci"} <= grafted
