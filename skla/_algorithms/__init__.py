"""The algorithm layer: numerics written against the data, called by estimators.

Each module is a set of plain functions and small classes with no
scikit-learn estimator machinery: the estimators validate, resolve
components and store fitted attributes; the code here computes.

- :mod:`.fista` -- accelerated proximal gradient (GDRegressor);
- :mod:`.minibatch` -- the mini-batch SGD engine (SGDMiniBatchRegressor),
  with :mod:`.standardise` (its diagonal preconditioner) and
  :mod:`.convergence` (its optimality check);
- :mod:`.scaling` -- exact power-of-two rescaling of extreme data;
- :mod:`._linalg` -- products on one BLAS, sums of squares.
"""
