"""The command line: output, exit codes, and no tracebacks."""

import subprocess
import sys

import pytest

from skla import _cli


def test_demo_compares_every_solver_with_lstsq(capsys):
    assert _cli.main([]) == 0
    out = capsys.readouterr().out
    solvers = {"auto", "gram", "lsqr", "qr", "svd"}
    rows = [
        row
        for row in map(str.split, out.splitlines())
        if row[:1] in ([s] for s in solvers)
    ]
    assert {row[0] for row in rows} == solvers
    for row in rows:
        assert float(row[2]) < 1e-10  # relative error vs numpy.linalg.lstsq
        assert float(row[3]) == pytest.approx(0.5177, abs=1e-4)  # R² on diabetes


def test_python_dash_m_runs_the_demo():
    done = subprocess.run(
        [sys.executable, "-m", "skla", "demo"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "numpy.linalg.lstsq" in done.stdout


def test_errors_are_one_line_without_traceback(monkeypatch, capsys):
    def boom(args):
        raise ValueError("something is wrong with the input")

    monkeypatch.setattr(_cli, "_demo", boom)
    assert _cli.main(["demo"]) == 1
    err = capsys.readouterr().err
    assert err == "skla: error: ValueError: something is wrong with the input\n"


def test_unknown_command_exits_nonzero():
    done = subprocess.run(
        [sys.executable, "-m", "skla", "nonsense"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "invalid choice" in done.stderr
