"""The component registry: names for pluggable parts, and entry points.

A *kind* is a family of interchangeable components -- least-squares solvers,
losses, penalties, step-size rules, schedules, SVD solvers -- defined by the
methods its protocol requires (documented by the ``typing.Protocol`` class
next to the built-ins).  Each kind maps names (strings, so ``GridSearchCV``
can search over them) to *factories*: classes, or callables that return a
new component when called with no arguments.

Names arrive from skla's own component modules (which register themselves
when :mod:`skla.components` is imported, as ``import skla`` does), from
:func:`register`, and from entry points of installed distributions (read the
first time a kind is used), e.g. ::

    [project.entry-points."skla.lstsq_solvers"]
    cholesky = "my_package.solvers:CholeskySolver"

An estimator parameter takes a registered name or an object implementing the
protocol: :func:`resolve` turns either into a component, and
:func:`parameter_constraint` is the matching ``_parameter_constraints`` entry.
A named component's factory receives, as keyword arguments, those of the
estimator's shared parameters that its signature names (Huber's
``epsilon``, elastic net's ``l1_ratio``, a schedule's ``eta0``).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, TypeVar, overload

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

#: A factory: a class, or a callable returning a new component.
Factory = TypeVar("Factory", bound=Callable[..., Any])


@dataclass
class _Kind:
    group: str
    methods: tuple[str, ...]
    description: str
    factories: dict[str, Callable[..., Any]] = field(default_factory=dict)
    entry_points_loaded: bool = False


_KINDS: dict[str, _Kind] = {
    "lstsq_solver": _Kind("skla.lstsq_solvers", ("solve",), "least-squares solver"),
    "loss": _Kind("skla.losses", ("value", "gradient"), "loss"),
    "penalty": _Kind("skla.penalties", ("value", "prox"), "penalty"),
    "step_size": _Kind("skla.step_sizes", ("initial",), "step-size rule"),
    "schedule": _Kind("skla.schedules", ("rates",), "learning-rate schedule"),
    "svd_solver": _Kind("skla.svd_solvers", ("svd",), "truncated-SVD solver"),
}


def _kind(kind: str) -> _Kind:
    if kind not in _KINDS:
        raise ValueError(
            f"Unknown component kind {kind!r}; skla's kinds are {kinds()}."
        )
    spec = _KINDS[kind]
    if not spec.entry_points_loaded:
        # After skla's own components, which register when skla.components
        # is imported (by skla's __init__), so that a plugin cannot take a
        # built-in name.
        spec.entry_points_loaded = True
        _load_entry_points(spec)
    return spec


def _load_entry_points(spec: _Kind) -> None:
    for ep in entry_points(group=spec.group):
        plugin = f"the {spec.description} plugin {ep.name!r} from {ep.value!r}"
        if ep.name in spec.factories:
            warnings.warn(
                f"skla: {plugin} is ignored because that name is already registered.",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        try:
            spec.factories[ep.name] = ep.load()
        except Exception as exc:  # a broken plugin must not break skla
            warnings.warn(
                f"skla: could not load {plugin}: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )


def kinds() -> tuple[str, ...]:
    """Names of the component kinds.

    Examples
    --------
    >>> from skla import kinds
    >>> "lstsq_solver" in kinds()
    True
    """
    return tuple(sorted(_KINDS))


def describe(kind: str) -> dict[str, Any]:
    """``{"group", "methods", "description"}`` of a kind: its entry-point group,
    the methods its protocol requires, and its name in messages.

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


@overload
def register(
    kind: str, name: str, factory: None = None, *, replace: bool = False
) -> Callable[[Factory], Factory]: ...
@overload
def register(
    kind: str, name: str, factory: Factory, *, replace: bool = False
) -> Factory: ...
def register(
    kind: str,
    name: str,
    factory: Callable[..., Any] | None = None,
    *,
    replace: bool = False,
) -> Callable[..., Any]:
    """Register ``factory`` (a class, or a callable returning a component) as ``name``.

    Without ``factory``, returns a class decorator.  Taking a registered name
    raises a ValueError unless ``replace=True``.

    Examples
    --------
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
    if spec.factories.get(name, factory) is not factory and not replace:
        raise ValueError(
            f"A {spec.description} named {name!r} is already registered; "
            "pass replace=True to override it."
        )
    spec.factories[name] = factory
    return factory


def unregister(kind: str, name: str) -> None:
    """Remove a registered name (KeyError if there is none).

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

    Examples
    --------
    >>> from skla import names
    >>> names("lstsq_solver")
    ('auto', 'gram', 'lsqr', 'qr', 'svd')
    """
    return tuple(sorted(_kind(kind).factories))


def reload_entry_points(kind: str | None = None) -> None:
    """Scan the entry points again (all kinds if None), e.g. after installing
    a plugin at run time; names already registered stay.

    Examples
    --------
    >>> from skla import names, reload_entry_points
    >>> reload_entry_points("loss")
    >>> "squared_error" in names("loss")
    True
    """
    for name in [kind] if kind else _KINDS:
        _load_entry_points(_kind(name))


def check_protocol(kind: str, component: object, *, param: str = "component") -> None:
    """Raise a TypeError naming the protocol methods ``component`` lacks."""
    spec = _kind(kind)
    missing = [m for m in spec.methods if not callable(getattr(component, m, None))]
    if missing:
        raise TypeError(
            f"{param}={component!r} is not a {spec.description}: it has no method "
            f"{', '.join(repr(m) for m in missing)}. Pass one of "
            f"{', '.join(repr(n) for n in names(kind))}, or an object with the "
            f"methods {', '.join(repr(m) for m in spec.methods)}."
        )


def resolve(kind: str, value: object, *, param: str, **shared_params: Any) -> Any:
    """A component from a parameter value: a registered name or an object.

    A name calls its factory with those of ``shared_params`` its signature
    names (a plugin's ``__init__(self, eta0=0.01)`` gets the estimator's
    ``eta0``).  An object is
    checked against the protocol and cloned, so fitting never modifies the
    estimator's constructor parameter.  ``param`` names the parameter in
    errors: a ValueError for an unknown name, a TypeError for an object that
    lacks a protocol method.

    Examples
    --------
    >>> from skla import resolve
    >>> resolve("lstsq_solver", "qr", param="solver")
    QRSolver()
    >>> resolve("loss", "huber", param="loss", epsilon=2.0, l1_ratio=0.5)
    Huber(epsilon=2.0)
    """
    spec = _kind(kind)
    if not isinstance(value, str):
        check_protocol(kind, value, param=param)
        return clone(value, safe=False)  # deep-copies non-estimators
    if value not in spec.factories:
        raise ValueError(
            f"{param}={value!r} is not a registered {spec.description}; "
            f"choose one of {', '.join(repr(n) for n in names(kind))}."
        )
    factory = spec.factories[value]
    component = factory(**_accepted(factory, shared_params))
    check_protocol(kind, component, param=f"{param}={value!r} (registered)")
    return component


def _accepted(factory: Callable[..., Any], params: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``params`` that ``factory`` takes as keyword arguments."""
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return {}
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        return dict(params)
    return {k: v for k, v in params.items() if k in accepted}


class RegisteredName(StrOptions):
    """A constraint satisfied by any name registered for ``kind`` at check time,
    so components registered after the estimator class are accepted."""

    def __init__(self, kind: str):
        super().__init__(set())
        self.kind = kind

    def is_satisfied_by(self, val: object) -> bool:
        return isinstance(val, str) and val in _kind(self.kind).factories

    def __str__(self) -> str:
        return f"a str among {{{', '.join(repr(n) for n in names(self.kind))}}}"


def parameter_constraint(kind: str) -> list[Any]:
    """The ``_parameter_constraints`` entry of a pluggable parameter: a
    registered name, or an object with the protocol's methods."""
    return [RegisteredName(kind), HasMethods(list(_KINDS[kind].methods))]
