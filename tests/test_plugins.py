"""The component registry: names, objects, protocol errors, entry points."""

import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.utils._param_validation import InvalidParameterError

import skla
from skla import PinvRegressor
from skla import plugins as _plugins
from skla.components.lstsq import LstsqResult, QRSolver

KIND = "lstsq_solver"


@pytest.fixture(autouse=True)
def restore_registry():
    """Each test leaves the registry as it found it."""
    spec = _plugins._kind(KIND)
    saved = dict(spec.factories)
    yield
    spec.factories.clear()
    spec.factories.update(saved)


class NumpyLstsq:
    """A minimal third-party solver: numpy's lstsq on the dense problem."""

    def __init__(self):
        self.calls = 0

    def solve(self, problem, *, alpha, rtol):
        self.calls += 1
        coef, _, rank, s = np.linalg.lstsq(problem.dense(), problem.rhs(), rcond=rtol)
        return LstsqResult(coef, int(rank), s, "numpy")


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    return X, X @ [1.0, -2.0, 0.5] + 1.0


def test_builtin_names_are_listed_sorted():
    assert skla.names(KIND) == ("auto", "gram", "lsqr", "qr", "svd")
    assert KIND in skla.kinds()


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown component kind 'nope'"):
        skla.names("nope")


def test_register_from_code_reaches_the_estimator():
    skla.register(KIND, "numpy", NumpyLstsq)
    assert "numpy" in skla.names(KIND)
    reg = PinvRegressor(solver="numpy").fit(*data())
    assert reg.solver_used_ == "numpy"
    assert isinstance(reg.solver_, NumpyLstsq)
    assert_allclose(reg.coef_, [1.0, -2.0, 0.5])
    skla.unregister(KIND, "numpy")
    with pytest.raises(InvalidParameterError, match="'solver' parameter"):
        PinvRegressor(solver="numpy").fit(*data())


def test_register_as_decorator_returns_the_class():
    @skla.register(KIND, "decorated")
    class Decorated(NumpyLstsq):
        pass

    assert _plugins._kind(KIND).factories["decorated"] is Decorated


def test_duplicate_names_need_replace():
    with pytest.raises(ValueError, match="already registered"):
        skla.register(KIND, "qr", NumpyLstsq)
    skla.register(KIND, "qr", NumpyLstsq, replace=True)
    assert PinvRegressor(solver="qr").fit(*data()).solver_used_ == "numpy"


def test_register_rejects_bad_names_and_factories():
    with pytest.raises(TypeError, match="non-empty str"):
        skla.register(KIND, "", NumpyLstsq)
    with pytest.raises(TypeError, match="must be callable"):
        skla.register(KIND, "x", object())
    with pytest.raises(KeyError, match="No least-squares solver"):
        skla.unregister(KIND, "never-registered")


def test_bad_name_error_lists_exactly_the_registered_names():
    skla.register(KIND, "numpy", NumpyLstsq)
    with pytest.raises(InvalidParameterError) as info:
        PinvRegressor(solver="nope").fit(*data())
    message = str(info.value)
    for name in skla.names(KIND):
        assert repr(name) in message
    assert "'solve'" in message
    with pytest.raises(ValueError, match="choose one of 'auto', 'gram'"):
        skla.resolve(KIND, "nope", param="solver")


def test_object_missing_a_method_names_it_and_the_parameter():
    class NoSolve:
        def fit(self):
            pass

    with pytest.raises(TypeError, match=r"solver=.*has no method 'solve'"):
        skla.resolve(KIND, NoSolve(), param="solver")
    with pytest.raises(TypeError, match="'solve'"):
        PinvRegressor(solver=NoSolve()).fit(*data())


def test_registered_factory_that_breaks_the_protocol_is_reported():
    skla.register(KIND, "broken", lambda: object())
    with pytest.raises(TypeError, match=r"solver='broken' \(registered\)"):
        skla.resolve(KIND, "broken", param="solver")


def test_object_is_cloned_and_the_parameter_untouched():
    solver = NumpyLstsq()
    reg = PinvRegressor(solver=solver).fit(*data())
    assert reg.solver is solver
    assert solver.calls == 0
    assert reg.solver_.calls == 1


def test_resolving_a_name_builds_a_new_component_each_time():
    first = skla.resolve(KIND, "qr", param="solver")
    assert isinstance(first, QRSolver)
    assert first is not skla.resolve(KIND, "qr", param="solver")


def test_describe_names_the_entry_point_group():
    info = skla.describe(KIND)
    assert info["group"] == "skla.lstsq_solvers"
    assert info["methods"] == ("solve",)


def _write_distribution(root, name, entry_points, module_source=""):
    """A throw-away installed distribution: a module and its dist-info."""
    (root / f"{name}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n"
    (info / "METADATA").write_text(metadata)
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def test_entry_point_plugin_is_found_and_used(tmp_path, monkeypatch):
    _write_distribution(
        tmp_path,
        "skla_fake_plugin",
        """\
        [skla.lstsq_solvers]
        fake = skla_fake_plugin:FakeSolver
        """,
        """\
        import numpy as np
        from skla.components.lstsq import LstsqResult

        class FakeSolver:
            def solve(self, problem, *, alpha, rtol):
                coef = np.linalg.pinv(problem.dense()) @ problem.rhs()
                return LstsqResult(coef, None, None, "fake")
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "fake" not in skla.names(KIND)
    skla.reload_entry_points(KIND)
    assert "fake" in skla.names(KIND)
    reg = PinvRegressor(solver="fake").fit(*data())
    assert reg.solver_used_ == "fake"
    assert_allclose(reg.coef_, [1.0, -2.0, 0.5])


def test_broken_or_clashing_entry_points_warn_and_are_skipped(tmp_path, monkeypatch):
    _write_distribution(
        tmp_path,
        "skla_bad_plugin",
        """\
        [skla.lstsq_solvers]
        missing = skla_module_that_does_not_exist:Solver
        svd = skla_bad_plugin:Other
        """,
        "class Other:\n    pass\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(RuntimeWarning) as record:
        skla.reload_entry_points(KIND)
    messages = " ".join(str(w.message) for w in record)
    assert "could not load" in messages
    assert "'missing'" in messages
    assert "already registered" in messages
    assert "missing" not in skla.names(KIND)
    assert _plugins._kind(KIND).factories["svd"].__name__ == "SVDSolver"


def test_a_loss_registered_through_an_entry_point_reaches_gd(tmp_path, monkeypatch):
    _write_distribution(
        tmp_path,
        "skla_fake_loss",
        """\
        [skla.losses]
        half_squares = skla_fake_loss:HalfSquares
        """,
        """\
        class HalfSquares:
            smoothness = 1.0

            def value(self, y, y_pred, sample_weight):
                return float(sample_weight @ (0.5 * (y - y_pred) ** 2).sum(axis=1))

            def gradient(self, y, y_pred, sample_weight):
                return -sample_weight[:, None] * (y - y_pred)
        """,
    )
    spec = _plugins._kind("loss")  # built-ins loaded before the plugin exists
    saved = dict(spec.factories)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        skla.reload_entry_points("loss")
        assert "half_squares" in skla.names("loss")
        X, y = data()
        reg = skla.GDRegressor(loss="half_squares", tol=1e-10).fit(X, y)
        assert type(reg.loss_).__name__ == "HalfSquares"
        assert_allclose(reg.coef_, [1.0, -2.0, 0.5], rtol=1e-6)
    finally:
        spec.factories.clear()
        spec.factories.update(saved)


def test_schedule_and_svd_solver_entry_points_reach_their_estimators(
    tmp_path, monkeypatch
):
    _write_distribution(
        tmp_path,
        "skla_more_plugins",
        """\
        [skla.schedules]
        halving = skla_more_plugins:Halving

        [skla.svd_solvers]
        numpy = skla_more_plugins:NumpySVD
        """,
        """\
        import numpy as np

        class Halving:
            def __init__(self, eta0=0.01):
                self.eta0 = eta0

            def rates(self, t, n_steps):
                return self.eta0 * 0.5 ** (np.arange(t, t + n_steps) // 1000)

        class NumpySVD:
            def svd(self, X, n_components, *, random_state):
                U, s, Vt = np.linalg.svd(X, full_matrices=False)
                return U[:, :n_components], s[:n_components], Vt[:n_components]
        """,
    )
    skla.names("schedule"), skla.names("svd_solver")  # load the built-ins first
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        skla.reload_entry_points("schedule")
        skla.reload_entry_points("svd_solver")
        X, y = data()
        sgd = skla.SGDMiniBatchRegressor(learning_rate="halving", eta0=0.05)
        assert type(sgd.fit(X, y).learning_rate_).__name__ == "Halving"
        assert sgd.learning_rate_.eta0 == 0.05  # eta0 reached the factory
        svd = skla.TruncatedSVDCompressor(2, algorithm="numpy").fit(X)
        assert_allclose(svd.singular_values_, np.linalg.svd(X, compute_uv=False)[:2])
    finally:
        for kind, name in [("schedule", "halving"), ("svd_solver", "numpy")]:
            if name in skla.names(kind):
                skla.unregister(kind, name)
