"""The algorithm layer: numerics written against the data, called by estimators.

Each module is a set of plain functions and small classes with no
scikit-learn estimator machinery: the estimators validate, resolve
components and store fitted attributes; the code here computes.

- :mod:`.objectives`, :mod:`.fista` -- GDRegressor's objective and its
  accelerated proximal gradient;
- :mod:`.minibatch` -- the mini-batch SGD engine (SGDMiniBatchRegressor),
  with :mod:`.kernels` (a window's updates), :mod:`.windows` (how an epoch
  reads X), :mod:`.curvature` (step cap and stable step), :mod:`.averaging`,
  :mod:`.standardise` (its diagonal preconditioner), :mod:`.convergence`
  (its optimality check) and :mod:`.epochs` (its epoch loop);
- :mod:`.lstsq`, :mod:`.qr` -- least-squares numerics (PinvRegressor's
  solvers);
- :mod:`.svd`, :mod:`.randomized_svd`, :mod:`.svd_figures` -- truncated-SVD
  numerics and the fit's figures (TruncatedSVDCompressor);
- :mod:`.scaling` -- exact power-of-two rescaling of extreme data;
- :mod:`._linalg` -- products on one BLAS, sums of squares, power
  iteration, the divergence test.
"""
