"""The Initializer protocol, the name registry and the spec parser behind :func:`get`."""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..random import as_generator
from .fans import as_shape, resolve_fans

_MAX_SPEC_LENGTH = 2000
_CALL_KEYWORDS = ("fan_in", "fan_out", "rng", "dtype")


def _default_dtype() -> np.dtype:
    import tinynet

    getter = getattr(tinynet, "get_default_dtype", None)
    if getter is None:  # pragma: no cover - only while the package is half-imported
        from tinynet.tensor import get_default_dtype as getter
    return np.dtype(getter())


def _resolve_dtype(dtype: Any) -> np.dtype:
    if dtype is None:
        return _default_dtype()
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"init: dtype must be a numpy float dtype, got {dtype!r}") from None
    if resolved.kind != "f":
        raise TypeError(f"init: dtype must be a floating dtype such as np.float32, got {resolved}")
    return resolved


def _plain(value: Any) -> Any:
    """Numpy scalars to Python scalars, recursively, so that repr() is a literal."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
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


class Initializer:
    """A weight-initialization strategy: a printable, comparable, seeded callable.

    ``init(shape, *, fan_in=None, fan_out=None, rng=None, dtype=None) -> np.ndarray`` returns a new
    array of ``shape`` and ``dtype`` (None: tinynet's default dtype). Missing fans come from
    :func:`tinynet.init.fans`; ``rng`` is a Generator, an int seed or None (the default Generator).
    Draws are made in float64 and then cast, so a seed gives the same numbers in every dtype.

    Subclasses implement ``sample(shape, fan_in, fan_out, rng) -> np.ndarray`` and store every
    ``__init__`` argument as an attribute of the same name; ``repr`` and :meth:`get_config` are
    derived from those, so ``init.get(repr(x)) == x`` and ``init.get(x.get_config()) == x``.
    ``fan_in``/``fan_out`` passed to ``sample`` are None unless given: :meth:`fans` fills them.
    """

    #: registered name; set by :func:`register` (used by repr and get_config)
    name: str = ""
    #: True for strategies that need data (LSUV): :func:`tinynet.init.apply` then needs ``data=``
    data_dependent: bool = False

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
            For a malformed shape, a non-float ``dtype`` or an ``rng`` of the wrong type.
        ValueError
            For negative dimensions or fans, or a shape the scheme does not support.
        """
        dims = as_shape(shape, self._spec_name())
        out_dtype = _resolve_dtype(dtype)
        generator = as_generator(rng)
        array = np.asarray(self.sample(dims, fan_in, fan_out, generator))
        if array.shape != dims:
            raise ValueError(f"{self!r}: produced shape {array.shape}, expected {dims}")
        return array.astype(out_dtype, copy=False)

    def sample(
        self,
        shape: tuple[int, ...],
        fan_in: float | None,
        fan_out: float | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Draw the values (any float dtype; the caller casts). Subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__}.sample")

    @staticmethod
    def fans(
        shape: tuple[int, ...], fan_in: float | None, fan_out: float | None
    ) -> tuple[float, float]:
        """Explicit fans if given, else those of ``shape`` (see :func:`tinynet.init.fans`)."""
        return resolve_fans(shape, fan_in, fan_out)

    def _spec_name(self) -> str:
        # a subclass that was not registered itself must not print its parent's name
        return type(self).__dict__.get("name") or type(self).__name__

    def _arguments(self) -> list[tuple[inspect.Parameter, Any]]:
        return [(p, _plain(getattr(self, p.name))) for p in _init_parameters(type(self))]

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


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return False
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


class FunctionInitializer(Initializer):
    """An initializer made from a function ``fn(shape, *, fan_in, fan_out, rng, dtype, **params)``.

    Only the keywords that ``fn`` accepts are passed (``dtype`` is float64: the result is cast to
    the requested dtype afterwards, like every scheme's draws). ``params`` are the extra keyword
    arguments bound by a spec (``"my_init(scale=2)"``). Used for registered functions and for
    plain callables given to :func:`get` (those have no name, so no spec: ``get_config`` raises).
    """

    def __init__(self, fn: Callable[..., Any], name: str = "", **params: Any) -> None:
        if not callable(fn):
            raise TypeError(f"init: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name
        self.params = {k: _plain(v) for k, v in params.items()}
        self._accepts = _accepted_keywords(fn)

    def sample(
        self,
        shape: tuple[int, ...],
        fan_in: float | None,
        fan_out: float | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        offered = {"fan_in": fan_in, "fan_out": fan_out, "rng": rng, "dtype": np.dtype(np.float64)}
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
    return frozenset(p.name for p in params if p.name in _CALL_KEYWORDS)


# ---------------------------------------------------------------------------------------------
# registry


class _FunctionFactory:
    """Registry entry for a function: builds FunctionInitializers with checked parameters."""

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self.fn = fn
        signature = inspect.signature(fn)
        params = list(signature.parameters.values())
        self.extra = [
            p
            for p in params[1:]
            if p.name not in _CALL_KEYWORDS and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        self.signature = inspect.Signature(self.extra)

    def __call__(self, *args: Any, **kwargs: Any) -> FunctionInitializer:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return FunctionInitializer(self.fn, self.name, **bound.arguments)


_REGISTRY: dict[str, Callable[..., Any]] = {}


def register(
    name: str, *, aliases: tuple[str, ...] = (), override: bool = False
) -> Callable[[Any], Any]:
    """Decorator adding an initializer to the registry under ``name`` (and ``aliases``).

    On a class (an :class:`Initializer` subclass) the spec's arguments go to its constructor.
    On a function ``fn(shape, *, fan_in, fan_out, rng, dtype, **params)`` the extra keyword
    ``params`` become spec arguments. The decorated object is returned unchanged.

    >>> @register("halves")
    ... def halves(shape, *, dtype, value=0.5):
    ...     return np.full(shape, value, dtype)

    Raises
    ------
    ValueError
        If a name is not a Python identifier or is already registered (unless ``override=True``).
    """
    all_names = (name, *aliases)
    for n in all_names:
        if not isinstance(n, str) or not n.isidentifier():
            raise ValueError(f"init.register: name must be a Python identifier, got {n!r}")
        if n in _REGISTRY and not override:
            raise ValueError(
                f"init.register: {n!r} is already registered; pass override=True to replace it"
            )

    def decorator(obj: Any) -> Any:
        if isinstance(obj, type):
            if not issubclass(obj, Initializer):
                raise TypeError(
                    f"init.register: a registered class must subclass init.Initializer, got {obj!r}"
                )
            if not obj.__dict__.get("name"):
                obj.name = name
            factory: Callable[..., Any] = obj
        elif callable(obj):
            factory = _FunctionFactory(name, obj)
        else:
            raise TypeError(
                f"init.register: expected a class or function, got {type(obj).__name__}"
            )
        for n in all_names:
            _REGISTRY[n] = factory
        return obj

    return decorator


def names() -> list[str]:
    """All registered names, aliases included, sorted."""
    return sorted(_REGISTRY)


def _lookup(name: str) -> Callable[..., Any]:
    factory = _REGISTRY.get(name)
    if factory is None:
        close = difflib.get_close_matches(name, _REGISTRY, n=1, cutoff=0.0)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"init.get: unknown initializer {name!r}.{hint} Valid names: {', '.join(names())}"
        )
    return factory


def _literal(node: ast.AST, what: str, spec: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ValueError(
            f"init.get: {what} in spec {spec!r} must be a literal (number, string, bool, None, "
            f"tuple or list); got {ast.unparse(node)!r}"
        ) from None


def parse_spec(spec: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Split ``"name(arg, key=value)"`` into ``(name, args, kwargs)`` without evaluating code.

    The text is parsed with :mod:`ast`; it must be a bare identifier or a call of one, and every
    argument is converted with :func:`ast.literal_eval`, so nothing in the string is executed.

    Raises
    ------
    ValueError
        For malformed specs, non-identifier callees (attribute access, subscripts, calls of calls),
        ``*args``/``**kwargs``, or arguments that are not literals (the message names the argument).
    """
    text = spec.strip()
    if len(text) > _MAX_SPEC_LENGTH:
        raise ValueError(
            f"init.get: spec is too long ({len(text)} > {_MAX_SPEC_LENGTH} characters)"
        )
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise ValueError(
            f"init.get: malformed spec {spec!r} (expected 'name' or 'name(key=value, ...)'): {err}"
        ) from None
    if isinstance(node, ast.Name):
        return node.id, [], {}
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ValueError(
            f"init.get: spec {spec!r} must be a name or a call of a name such as "
            '"normal(std=0.1)"; expressions, attributes and nested calls are not allowed'
        )
    args = []
    for i, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            raise ValueError(f"init.get: *args are not allowed in spec {spec!r}")
        args.append(_literal(arg, f"positional argument {i}", spec))
    kwargs = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise ValueError(f"init.get: **kwargs are not allowed in spec {spec!r}")
        kwargs[kw.arg] = _literal(kw.value, f"argument {kw.arg!r}", spec)
    return node.func.id, args, kwargs


def _build(name: str, args: list[Any], kwargs: dict[str, Any], source: Any) -> Initializer:
    factory = _lookup(name)
    signature = _factory_signature(factory)
    if signature is not None:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as err:
            valid = ", ".join(signature.parameters) or "none"
            raise TypeError(
                f"init.get({source!r}): {err} (valid arguments of {name!r}: {valid})"
            ) from None
    try:
        built = factory(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise type(err)(f"init.get({source!r}): {err}") from None
    return built


def _factory_signature(factory: Callable[..., Any]) -> inspect.Signature | None:
    if isinstance(factory, _FunctionFactory):
        return factory.signature
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return signature


def get(spec: Any) -> Initializer:
    """Turn ``spec`` into an :class:`Initializer`.

    Accepts a registered name (``"he"``), a spec string (``"he_normal(mode='fan_out')"``,
    ``"normal(std=0.1)"``, ``"constant(0.5)"``), a config dict (``{"name": "normal", "std": 0.1}``,
    as from :meth:`Initializer.get_config`), an :class:`Initializer` (returned as is), an
    Initializer subclass (instantiated with defaults) or any callable
    ``(shape, *, fan_in, fan_out, rng, dtype) -> array`` (wrapped; only the keywords it accepts are
    passed). Strings are parsed with :mod:`ast` and :func:`ast.literal_eval`, never ``eval``.

    Raises
    ------
    ValueError
        Unknown name (the message gives the closest match and lists every name), malformed spec,
        non-literal argument, bad argument value (the message names the argument).
    TypeError
        Unknown argument name, or a spec of an unsupported type.
    """
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, str):
        name, args, kwargs = parse_spec(spec)
        return _build(name, args, kwargs, spec)
    if isinstance(spec, Mapping):
        config = dict(spec)
        name = config.pop("name", None)
        if not isinstance(name, str):
            raise ValueError(
                "init.get: a config dict needs a 'name' key holding a registered name, "
                f"got {spec!r}"
            )
        return _build(name, [], config, spec)
    if isinstance(spec, type) and issubclass(spec, Initializer):
        return spec()
    if callable(spec):
        return FunctionInitializer(spec)
    raise TypeError(
        "init.get: spec must be a name or spec string, a config dict, an Initializer or a "
        f"callable, got {type(spec).__name__}"
    )
