"""The ``skla`` command line: ``python -m skla [demo | compress ...]``.

Errors are printed as one line on stderr with a non-zero exit status, never as
a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

from . import _compress_cli

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    """Fit PinvRegressor with every solver on the diabetes data; compare to lstsq."""
    from sklearn.datasets import load_diabetes

    from . import PinvRegressor, names

    X, y = load_diabetes(return_X_y=True)
    # numpy's reference: an explicit intercept column, solved by LAPACK's gelsd.
    design = np.column_stack([np.ones(len(X)), X])
    reference = np.linalg.lstsq(design, y, rcond=None)[0]
    print(
        f"PinvRegressor on the diabetes data ({X.shape[0]} samples, {X.shape[1]} "
        "features)\ncompared with numpy.linalg.lstsq on [1 | X]:\n"
    )
    print(f"{'solver':>8} {'used':>6} {'rel. error':>11} {'R^2':>8} {'fit ms':>8}")
    for solver in names("lstsq_solver"):
        start = time.perf_counter()
        reg = PinvRegressor(solver=solver).fit(X, y)
        elapsed = 1e3 * (time.perf_counter() - start)
        fitted = np.concatenate([[reg.intercept_], reg.coef_])
        error = np.linalg.norm(fitted - reference) / np.linalg.norm(reference)
        print(
            f"{solver:>8} {reg.solver_used_:>6} {error:>11.1e} "
            f"{reg.score(X, y):>8.4f} {elapsed:>8.2f}"
        )
    print(
        f"\nrel. error: ‖[b, β] - lstsq‖ / ‖lstsq‖ over intercept b and coefficients β"
        f"\nintercept {reference[0]:.4f}; coefficients {np.round(reference[1:], 1)}"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skla",
        description="scikit-learn compatible linear-algebra learners.",
    )
    parser.add_argument("--version", action="version", version=f"skla {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="fit PinvRegressor on the bundled diabetes data and compare with "
        "numpy.linalg.lstsq (the default)",
    )
    demo.set_defaults(run=_demo)
    _compress_cli.add_parser(commands)
    parser.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    status : int
        0 on success, 1 on error (reported on stderr in one line), 130 when
        interrupted.
    """
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
        return status
    except KeyboardInterrupt:
        print("skla: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the command line reports, never tracebacks
        print(f"skla: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
