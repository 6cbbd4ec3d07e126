"""The component registry: one mechanism for every kind of pluggable part.

A *kind* is a family of interchangeable components -- least-squares solvers,
losses, penalties, step-size schedules, SVD solvers -- described by the methods
a component must have (its protocol).  Each kind keeps a table that maps a name
(a string, so that ``GridSearchCV`` can search over it) to a *factory*: a class
or any callable that returns a fresh component.

Components reach the table in three ways:

* skla's own, from the module that defines them (imported on first use);
* :func:`register`, from code;
* entry points: a distribution that declares, for example::

      [project.entry-points."skla.lstsq_solvers"]
      cholesky = "my_package.solvers:CholeskySolver"

  is found the first time the kind is used, without importing skla's user code.

An estimator parameter such as ``solver`` takes a registered name or an object
implementing the protocol; :func:`resolve` turns either into a component and
:func:`parameter_constraint` gives the matching ``_parameter_constraints``
entry, so the names an estimator accepts and lists in its errors are exactly
the registered ones.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, StrOptions

__all__ = [
    "describe",
    "kinds",
    "names",
    "parameter_constraint",
    "register",
    "reload_entry_points",
    "resolve",
    "unregister",
]


@dataclass
class _Kind:
    name: str
    group: str
    methods: tuple[str, ...]
    description: str
    builtins_module: str
    factories: dict = field(default_factory=dict)
    loaded: bool = False


# The kinds skla knows.  A kind lists the methods its protocol requires; the
# typing.Protocol class next to the built-in components documents them.
_KINDS = {
    kind.name: kind
    for kind in (
        _Kind(
            name="lstsq_solver",
            group="skla.lstsq_solvers",
            methods=("solve",),
            description="least-squares solver",
            builtins_module="skla.components.lstsq",
        ),
        _Kind(
            name="loss",
            group="skla.losses",
            methods=("value", "gradient"),
            description="loss",
            builtins_module="skla.components.losses",
        ),
        _Kind(
            name="penalty",
            group="skla.penalties",
            methods=("value", "prox"),
            description="penalty",
            builtins_module="skla.components.penalties",
        ),
        _Kind(
            name="step_size",
            group="skla.step_sizes",
            methods=("initial",),
            description="step-size rule",
            builtins_module="skla.components.step_sizes",
        ),
        _Kind(
            name="schedule",
            group="skla.schedules",
            methods=("rates",),
            description="learning-rate schedule",
            builtins_module="skla.components.schedules",
        ),
        _Kind(
            name="svd_solver",
            group="skla.svd_solvers",
            methods=("svd",),
            description="truncated-SVD solver",
            builtins_module="skla.components.svd",
        ),
    )
}


def _kind(kind: str) -> _Kind:
    try:
        spec = _KINDS[kind]
    except KeyError:
        raise ValueError(
            f"Unknown component kind {kind!r}; skla's kinds are {kinds()}."
        ) from None
    if not spec.loaded:
        # Mark first: the built-in module registers itself through register(),
        # which calls back here.
        spec.loaded = True
        importlib.import_module(spec.builtins_module)
        _load_entry_points(spec)
    return spec


def _load_entry_points(spec: _Kind) -> None:
    for ep in entry_points(group=spec.group):
        if ep.name in spec.factories:
            warnings.warn(
                f"skla: the {spec.description} plugin {ep.name!r} from {ep.value!r} "
                "is ignored because that name is already registered.",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        try:
            factory = ep.load()
        except Exception as exc:  # a broken plugin must not break skla
            warnings.warn(
                f"skla: could not load the {spec.description} plugin {ep.name!r} "
                f"from {ep.value!r}: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        spec.factories[ep.name] = factory


def kinds() -> tuple[str, ...]:
    """Names of the component kinds.

    Returns
    -------
    kinds : tuple of str

    Examples
    --------
    >>> from skla import kinds
    >>> "lstsq_solver" in kinds()
    True
    """
    return tuple(sorted(_KINDS))


def describe(kind: str) -> dict:
    """The entry-point group and protocol methods of a kind.

    Parameters
    ----------
    kind : str
        A name from :func:`kinds`.

    Returns
    -------
    info : dict
        ``{"group": str, "methods": tuple of str, "description": str}``.

    Examples
    --------
    >>> from skla import describe
    >>> describe("lstsq_solver")["group"]
    'skla.lstsq_solvers'
    """
    spec = _kind(kind)
    return {
        "group": spec.group,
        "methods": spec.methods,
        "description": spec.description,
    }


def register(kind: str, name: str, factory=None, *, replace: bool = False):
    """Register a component factory under a name.

    Can be called directly or used as a class decorator.

    Parameters
    ----------
    kind : str
        The component kind, e.g. ``"lstsq_solver"``.
    name : str
        The name users pass to the estimator parameter.
    factory : callable, default=None
        A class or function that returns a new component when called with
        no arguments.  If None, ``register`` returns a decorator.
    replace : bool, default=False
        Allow replacing an existing registration of the same name.

    Returns
    -------
    factory : callable
        The registered factory (so the decorator form returns the class).

    Raises
    ------
    ValueError
        If the name is already taken and ``replace`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> from skla import register, unregister, names
    >>> @register("lstsq_solver", "numpy")
    ... class NumpySolver:
    ...     def solve(self, problem, *, alpha, rtol):
    ...         ...
    >>> "numpy" in names("lstsq_solver")
    True
    >>> unregister("lstsq_solver", "numpy")
    """
    if factory is None:
        return lambda f: register(kind, name, f, replace=replace)
    if not isinstance(name, str) or not name:
        raise TypeError(f"A component name must be a non-empty str; got {name!r}.")
    if not callable(factory):
        raise TypeError(
            f"The factory registered as {name!r} must be callable (a class or a "
            f"function returning a component); got {factory!r}."
        )
    spec = _kind(kind)
    if name in spec.factories and not replace and spec.factories[name] is not factory:
        raise ValueError(
            f"A {spec.description} named {name!r} is already registered; "
            "pass replace=True to override it."
        )
    spec.factories[name] = factory
    return factory


def unregister(kind: str, name: str) -> None:
    """Remove a registered component.

    Parameters
    ----------
    kind : str
        The component kind.
    name : str
        The registered name.

    Raises
    ------
    KeyError
        If nothing is registered under that name.

    Examples
    --------
    >>> from skla import names, register, unregister
    >>> _ = register("schedule", "fixed", lambda: None)
    >>> unregister("schedule", "fixed")
    >>> "fixed" in names("schedule")
    False
    """
    spec = _kind(kind)
    if name not in spec.factories:
        raise KeyError(f"No {spec.description} is registered as {name!r}.")
    del spec.factories[name]


def names(kind: str) -> tuple[str, ...]:
    """The registered names of a kind, sorted.

    Parameters
    ----------
    kind : str
        The component kind.

    Returns
    -------
    names : tuple of str

    Examples
    --------
    >>> from skla import names
    >>> names("lstsq_solver")
    ('auto', 'gram', 'lsqr', 'qr', 'svd')
    """
    return tuple(sorted(_kind(kind).factories))


def reload_entry_points(kind: str | None = None) -> None:
    """Scan the entry points again, e.g. after installing a plugin at run time.

    Names registered from code stay; entry points not seen before are added.

    Parameters
    ----------
    kind : str, default=None
        The kind to rescan; all kinds if None.

    Examples
    --------
    >>> from skla import names, reload_entry_points
    >>> reload_entry_points("loss")  # after ``pip install`` of a plugin package
    >>> "squared_error" in names("loss")
    True
    """
    for spec in [_kind(kind)] if kind else [_kind(k) for k in _KINDS]:
        _load_entry_points(spec)


def check_protocol(kind: str, component, *, param: str = "component") -> None:
    """Raise a TypeError naming the methods ``component`` lacks.

    Parameters
    ----------
    kind : str
        The component kind.
    component : object
        The object to check.
    param : str, default="component"
        The estimator parameter the object was passed as, for the message.

    Raises
    ------
    TypeError
        If a method the protocol requires is missing or not callable.
    """
    spec = _kind(kind)
    missing = [m for m in spec.methods if not callable(getattr(component, m, None))]
    if missing:
        raise TypeError(
            f"{param}={component!r} is not a {spec.description}: it has no method "
            f"{', '.join(repr(m) for m in missing)}. Pass one of "
            f"{', '.join(repr(n) for n in names(kind))}, or an object with the "
            f"methods {', '.join(repr(m) for m in spec.methods)}."
        )


def resolve(kind: str, value, *, param: str, **init_params):
    """Turn a parameter value -- a registered name or an object -- into a component.

    A name builds a new component from its factory, passing those of
    ``init_params`` that the factory's signature names (so an estimator can
    offer ``epsilon`` and ``l1_ratio`` to every loss and penalty, and each
    takes what it uses); an object is checked against the protocol and cloned,
    so the estimator's constructor parameter is never modified by fitting.

    Parameters
    ----------
    kind : str
        The component kind.
    value : str or object
        The parameter value.
    param : str
        The parameter's name, used in error messages.
    **init_params
        Keyword arguments for the factory of a named component.

    Returns
    -------
    component : object
        A component implementing the kind's protocol.

    Raises
    ------
    ValueError
        If ``value`` is a string that is not a registered name.
    TypeError
        If ``value`` is an object that lacks a protocol method.

    Examples
    --------
    >>> from skla import resolve
    >>> resolve("lstsq_solver", "qr", param="solver")
    QRSolver()
    """
    spec = _kind(kind)
    if isinstance(value, str):
        if value not in spec.factories:
            raise ValueError(
                f"{param}={value!r} is not a registered {spec.description}; "
                f"choose one of {', '.join(repr(n) for n in names(kind))}."
            )
        factory = spec.factories[value]
        component = factory(**_accepted(factory, init_params))
        check_protocol(kind, component, param=f"{param}={value!r} (registered)")
        return component
    check_protocol(kind, value, param=param)
    # clone(safe=False) deep-copies objects that are not estimators.
    return clone(value, safe=False)


def _accepted(factory, params):
    """The entries of ``params`` that ``factory`` takes as keyword arguments."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature
        return {}
    accepted = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        return dict(params)
    return {k: v for k, v in params.items() if k in accepted}


class RegisteredName(StrOptions):
    """A ``_parameter_constraints`` entry: any name currently registered for a kind.

    Unlike a fixed ``StrOptions``, the allowed set is read from the registry each
    time, so components registered after the estimator class was defined (from
    code or entry points) are accepted and listed in error messages.
    """

    def __init__(self, kind: str):
        # Options.__init__ would store a fixed set; ours is a live view.
        self.kind = kind
        self.type = str
        self.deprecated = set()
        self.hidden = False

    @property
    def options(self):
        return set(names(self.kind))

    def __str__(self):
        return f"a str among {{{', '.join(repr(n) for n in names(self.kind))}}}"


def parameter_constraint(kind: str) -> list:
    """The ``_parameter_constraints`` entry for a pluggable parameter.

    Parameters
    ----------
    kind : str
        The component kind.

    Returns
    -------
    constraints : list
        A registered-name constraint and a ``HasMethods`` constraint.
    """
    return [RegisteredName(kind), HasMethods(list(_KINDS[kind].methods))]
