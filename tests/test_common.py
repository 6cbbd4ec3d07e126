"""scikit-learn's estimator checks over every public skla estimator.

Estimators are found by discovery, never listed by hand.  A check may be
marked as an expected failure only where scikit-learn's own counterpart is
marked the same way, with the reason next to it.
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    check_set_output_transform,
    check_transformer_get_feature_names_out,
    parametrize_with_checks,
)

from skla.utils.discovery import all_estimators

ESTIMATORS = [cls() for _, cls in all_estimators()]

# The same two checks are expected failures of sklearn.linear_model.SGDRegressor
# (sklearn/utils/_test_common/instance_generator.py, PER_ESTIMATOR_XFAIL_CHECKS):
# stochastic updates see a sample of weight 2 once with a doubled step, not
# twice, and a zero-weight sample still takes a place in its mini-batch, so
# weights are equivalent to repetition in expectation only.
_SGD_WEIGHTS = (
    "sample_weight is not equivalent to removing/repeating samples: stochastic "
    "updates see a weight-2 sample once with a doubled step (as SGDRegressor)."
)
EXPECTED_FAILURES = {
    "SGDMiniBatchRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SGD_WEIGHTS,
        "check_sample_weight_equivalence_on_sparse_data": _SGD_WEIGHTS,
    },
}


def _expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


# check_estimator() does not yield these; scikit-learn runs them from its own
# test suite, so we call them here.
EXTRA_CHECKS = [check_param_validation, check_dataframe_column_names_consistency]
TRANSFORMER_CHECKS = [
    check_set_output_transform,
    check_transformer_get_feature_names_out,
]


def test_discovery_finds_the_estimators():
    names = {type(est).__name__ for est in ESTIMATORS}
    assert "PinvRegressor" in names


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _extra_checks():
    for estimator in ESTIMATORS:
        checks = list(EXTRA_CHECKS)
        if hasattr(estimator, "transform"):
            checks += TRANSFORMER_CHECKS
        for check in checks:
            yield pytest.param(
                estimator, check, id=f"{type(estimator).__name__}-{check.__name__}"
            )


@pytest.mark.parametrize(("estimator", "check"), list(_extra_checks()))
def test_checks_not_yielded_by_check_estimator(estimator, check):
    check(type(estimator).__name__, estimator)
