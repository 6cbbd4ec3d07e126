"""scikit-learn's estimator checks over every public skla estimator.

Estimators are found by discovery, never listed by hand.  No check is marked
as an expected failure: every skla estimator passes them all.
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


@parametrize_with_checks(ESTIMATORS)
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
