"""The README's quick start is what CI runs, and its examples work."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_install_then_test():
    first, second = quick_start_commands()
    assert "pip install ." in first
    assert first.endswith("python -m skla compress")
    assert '".[test]"' in second
    assert second.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quick_start_commands()[1] in ci


def test_ci_builds_the_docs_as_the_readme_says():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Documentation", 1)[1]
    command = re.search(r"```sh\n(.*?)```", section, re.S).group(1).strip()
    assert "sphinx -W" in command
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_python_examples_run():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks
    import skla

    namespace = {}
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
    finally:
        if "mine" in skla.names("lstsq_solver"):
            skla.unregister("lstsq_solver", "mine")
    assert list(
        namespace["PinvRegressor"](fit_intercept=False)
        .fit(namespace["A"], [8.0, 3.0])
        .coef_.round(12)
    ) == [1.0, 2.0]
