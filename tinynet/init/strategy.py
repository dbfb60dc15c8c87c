"""What a strategy is: the :class:`Initializer` base class (a printable, comparable, seeded
callable) and :class:`FunctionInitializer`, which makes one out of a plain function.

How names become strategies (``register``, ``get``, the spec parser) is :mod:`.registry`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import is_real
from ..random import as_generator
from ..tensor import get_default_dtype
from .fans import Fans, Shape, as_shape, resolve_fans

#: the keywords an initializer is called with (besides the shape)
CALL_KEYWORDS = ("fan_in", "fan_out", "rng", "dtype")


def _resolve_dtype(dtype: Any) -> np.dtype:
    if dtype is None:
        return np.dtype(get_default_dtype())
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"init: dtype must be a numpy float dtype, got {dtype!r}") from None
    if resolved.kind != "f":
        raise TypeError(f"init: dtype must be a floating dtype such as np.float32, got {resolved}")
    return resolved


def plain(value: Any) -> Any:
    """Numpy scalars to Python scalars, recursively, so that repr() is a literal."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


@functools.cache
def _init_parameters(cls: type) -> tuple[inspect.Parameter, ...]:
    params = inspect.signature(cls.__init__).parameters.values()
    return tuple(
        p
        for p in list(params)[1:]
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    )


def _format_call(name: str, args: list[tuple[str, Any]]) -> str:
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in args)})"


def _same(a: Any, b: Any) -> bool:
    """Equality of config values: NaN equals NaN, and values of different types are equal only if
    both are numbers (ints and floats, never bools)."""
    if type(a) is not type(b) and not (is_real(a) and is_real(b)):
        return False
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


class Initializer:
    """A weight-initialization strategy: a printable, comparable, seeded callable.

    ``init(shape, *, fan_in=None, fan_out=None, rng=None, dtype=None) -> np.ndarray`` returns a new
    array of ``shape`` and ``dtype`` (None: tinynet's default dtype). ``rng`` is a Generator, an
    int seed or None (the default Generator). The fans are resolved here, once: the explicit
    ``fan_in``/``fan_out`` where given, the rest from :func:`tinynet.init.fans` of the shape.
    Draws are made in float64 and then cast, so a seed gives the same numbers in every dtype.

    A subclass implements one method,

        def sample(self, shape, fans, rng) -> np.ndarray

    (``shape`` a tuple of ints, ``fans`` the resolved ``(fan_in, fan_out)``, ``rng`` a
    ``np.random.Generator``; it returns float64 values of that shape), and stores every
    ``__init__`` argument as an attribute of the same name: ``repr`` and :meth:`get_config` are
    derived from those, so ``init.get(repr(x)) == x`` and ``init.get(x.get_config()) == x``.
    A strategy whose draws ignore the fans sets ``uses_fans = False``; it then also accepts a 0-d
    shape without explicit fans (its ``fans`` are NaN there).
    """

    #: registered name; set by :func:`tinynet.init.register` (used by repr and get_config)
    name: str = ""
    #: True for strategies that need data (LSUV): :func:`tinynet.init.apply` then needs ``data=``
    data_dependent: bool = False
    #: False for strategies whose values do not depend on the fans (constants, plain distributions)
    uses_fans: bool = True

    def __call__(
        self,
        shape: int | tuple[int, ...],
        *,
        fan_in: float | None = None,
        fan_out: float | None = None,
        rng: np.random.Generator | int | None = None,
        dtype: Any = None,
    ) -> np.ndarray:
        """Return a new array of ``shape`` drawn by this strategy.

        Raises
        ------
        TypeError
            For a malformed shape or fan, a non-float ``dtype`` or an ``rng`` of the wrong type.
        ValueError
            For negative dimensions or fans, or a shape the scheme does not support.
        """
        dims = as_shape(shape, self._spec_name())
        fans = resolve_fans(dims, fan_in, fan_out, needed=self.uses_fans)
        out_dtype = _resolve_dtype(dtype)
        generator = as_generator(rng)
        array = np.asarray(self.sample(dims, fans, generator))
        if array.shape != dims:
            raise ValueError(f"{self!r}: produced shape {array.shape}, expected {dims}")
        return array.astype(out_dtype, copy=False)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        """Draw the values of ``shape`` in float64 (the caller casts). Subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__}.sample")

    def _spec_name(self) -> str:
        # a subclass that was not registered itself must not print its parent's name
        return type(self).__dict__.get("name") or type(self).__name__

    def _arguments(self) -> list[tuple[inspect.Parameter, Any]]:
        return [(p, plain(getattr(self, p.name))) for p in _init_parameters(type(self))]

    def get_config(self) -> dict[str, Any]:
        """``{"name": registered_name, arg: value, ...}`` with every constructor argument.

        :func:`tinynet.init.get` accepts this dict and rebuilds an equal initializer.
        """
        return {"name": self._spec_name(), **{p.name: v for p, v in self._arguments()}}

    def replace(self, **changes: Any) -> Initializer:
        """A copy with some constructor arguments changed, e.g. ``x.replace(gain=2.0)``."""
        args = {p.name: v for p, v in self._arguments()}
        unknown = set(changes) - set(args)
        if unknown:
            raise TypeError(
                f"{self!r}.replace: unknown argument(s) {sorted(unknown)}; valid: {sorted(args)}"
            )
        return type(self)(**{**args, **changes})

    def __repr__(self) -> str:
        shown = [
            (p.name, v)
            for p, v in self._arguments()
            if p.default is inspect.Parameter.empty or not _same(v, p.default)
        ]
        return _format_call(self._spec_name(), shown)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and _same(self.get_config(), other.get_config())  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self))


class FunctionInitializer(Initializer):
    """An initializer made from a function ``fn(shape, *, fan_in, fan_out, rng, dtype, **params)``.

    Only the keywords that ``fn`` accepts are passed: ``fan_in``/``fan_out`` as resolved by
    :meth:`Initializer.__call__` (explicit ones unchanged, the rest from the shape), ``rng`` a
    Generator and ``dtype`` float64 (the result is cast to the requested dtype afterwards, like
    every scheme's draws). ``params`` are the extra keyword arguments bound by a spec
    (``"my_init(scale=2)"``). Used for registered functions and for plain callables given to
    :func:`tinynet.init.get` (those have no name, so no spec: ``get_config`` raises).
    """

    def __init__(self, fn: Callable[..., Any], name: str = "", **params: Any) -> None:
        if not callable(fn):
            raise TypeError(f"init: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name
        self.params = {k: plain(v) for k, v in params.items()}
        self._accepts = _accepted_keywords(fn)
        # a function that takes no fan keyword needs no fans (so it also takes a 0-d shape)
        self.uses_fans = self._accepts is None or bool({"fan_in", "fan_out"} & self._accepts)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        offered = {"fan_in": fans[0], "fan_out": fans[1], "rng": rng, "dtype": np.dtype(np.float64)}
        kwargs = {k: v for k, v in offered.items() if self._accepts is None or k in self._accepts}
        out = self.fn(shape, **kwargs, **self.params)
        if hasattr(out, "data") and not isinstance(out, np.ndarray):
            out = out.data  # a Tensor
        return np.asarray(out, dtype=np.float64)

    def _spec_name(self) -> str:
        return self.name or "<unregistered initializer>"

    def get_config(self) -> dict[str, Any]:
        if not self.name:
            raise ValueError(
                f"{self!r} is an unregistered callable and has no config; "
                "register it with @init.register('name') to make it serializable"
            )
        return {"name": self.name, **self.params}

    def replace(self, **changes: Any) -> Initializer:
        return FunctionInitializer(self.fn, self.name, **{**self.params, **changes})

    def __repr__(self) -> str:
        if not self.name:
            label = getattr(self.fn, "__qualname__", type(self.fn).__name__)
            return f"<unregistered initializer {label}>"
        return _format_call(self.name, list(self.params.items()))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FunctionInitializer)
            and other.fn is self.fn
            and other.name == self.name
            and _same(other.params, self.params)
        )

    __hash__ = Initializer.__hash__


def _accepted_keywords(fn: Callable[..., Any]) -> frozenset[str] | None:
    """Names of the call keywords ``fn`` takes; None when it takes ``**kwargs`` or is opaque."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params if p.name in CALL_KEYWORDS)
