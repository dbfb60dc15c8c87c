"""How names become strategies: the registry (:func:`register`, :func:`names`), the safe spec
parser (:func:`parse_spec`, ``ast.literal_eval`` only) and :func:`get`, which accepts a name, a
spec string, a config dict, an :class:`~.strategy.Initializer` or a callable.
"""

from __future__ import annotations

import ast
import inspect
import math
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from .._checks import closest
from .strategy import CALL_KEYWORDS, FunctionInitializer, Initializer

#: the longest spec string accepted, in characters
MAX_SPEC_LENGTH = 2000
#: the deepest expression tree accepted: a call, its keyword, then up to 28 levels of nested
#: containers or unary signs (``-(-1)``) below it; deeper specs raise ValueError before any
#: recursive step (``ast.literal_eval``, ``ast.unparse``) can hit Python's recursion limit
MAX_SPEC_DEPTH = 32
#: the largest integer magnitude a spec may hold: anything larger cannot become a float
_LARGEST_INT = int(sys.float_info.max)


class _FunctionFactory:
    """Registry entry for a function: builds FunctionInitializers with checked parameters."""

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self.fn = fn
        params = list(inspect.signature(fn).parameters.values())
        extra = [
            p
            for p in params[1:]
            if p.name not in CALL_KEYWORDS and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        self.signature = inspect.Signature(extra)

    def __call__(self, *args: Any, **kwargs: Any) -> FunctionInitializer:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return FunctionInitializer(self.fn, self.name, **bound.arguments)


#: name or alias -> an Initializer subclass or a _FunctionFactory
_REGISTRY: dict[str, Callable[..., Any]] = {}


def register(
    name: str, *, aliases: tuple[str, ...] = (), override: bool = False
) -> Callable[[Any], Any]:
    """Decorator adding an initializer to the registry under ``name`` (and ``aliases``).

    On a class (an :class:`Initializer` subclass implementing ``sample(self, shape, fans, rng)``)
    the spec's arguments go to its constructor. On a function
    ``fn(shape, *, fan_in, fan_out, rng, dtype, **params)`` the extra keyword ``params`` become
    spec arguments. The decorated object is returned unchanged.

    >>> @register("halves")
    ... def halves(shape, *, dtype, value=0.5):
    ...     return np.full(shape, value, dtype)

    Raises
    ------
    ValueError
        If a name is not a Python identifier or is already registered (unless ``override=True``).
    TypeError
        If the decorated object is neither an Initializer subclass nor a function.
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
        valid = names()
        hint = closest(name, valid, cutoff=0.0)
        suggestion = f" Did you mean {hint!r}?" if hint else ""
        raise ValueError(
            f"init.get: unknown initializer {name!r}.{suggestion} Valid names: {', '.join(valid)}"
        )
    return factory


def _show(source: Any, limit: int = 200) -> str:
    """``repr(source)`` for a message, cut to ``limit`` characters (and safe for integers whose
    decimal form Python refuses to produce)."""
    try:
        text = repr(source)
    except ValueError:  # e.g. an int beyond sys.get_int_max_str_digits()
        text = f"<{type(source).__name__}>"
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def _tree_depth(root: ast.AST, limit: int) -> int:
    """Depth of the tree under ``root`` (``root`` alone is 1), found iteratively; the walk stops
    as soon as the depth exceeds ``limit`` and returns ``limit + 1``."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return limit + 1
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _check_numbers(value: Any, what: str, source: Any) -> None:
    """Check every number inside ``value`` (containers walked iteratively): an ``int`` must lie
    within the float range (a 400-digit integer cannot become a float), a complex number must
    have finite parts. Floats are checked by each scheme (``inf`` is a valid truncation bound).

    Raises
    ------
    ValueError
        Naming ``what`` (the argument), the spec ``source`` and the offending number.
    """
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple, set, frozenset, dict)):
            if id(item) in seen:  # a container holding itself (a config dict may)
                continue
            seen.add(id(item))
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and abs(item) > _LARGEST_INT:
            bits = item.bit_length()  # str() of a very long int is refused by Python itself
            digits = str(len(str(abs(item)))) if bits < 13_000 else f"about {int(bits * math.log10(2)) + 1}"
            raise ValueError(
                f"init.get({_show(source)}): {what} is an integer of {digits} digits, outside the "
                f"float range (magnitude <= {sys.float_info.max:.4g})"
            )
        if isinstance(item, complex) and not (
            math.isfinite(item.real) and math.isfinite(item.imag)
        ):
            raise ValueError(f"init.get({_show(source)}): {what} holds a non-finite number {item!r}")
        if isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())


def _literal(node: ast.AST, what: str, spec: str) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ValueError(
            f"init.get: {what} in spec {spec!r} must be a literal (number, string, bool, None, "
            f"tuple or list); got {ast.unparse(node)!r}"
        ) from None
    return value


def parse_spec(spec: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Split ``"name(arg, key=value)"`` into ``(name, args, kwargs)`` without evaluating code.

    The text is parsed with :mod:`ast`; it must be a bare identifier or a call of one, and every
    argument is converted with :func:`ast.literal_eval`, so nothing in the string is executed.
    Bounded before any recursive step: at most :data:`MAX_SPEC_LENGTH` characters and an expression
    at most :data:`MAX_SPEC_DEPTH` levels deep (measured iteratively); integers must lie within
    the float range.

    Raises
    ------
    ValueError
        For malformed, overlong or too deeply nested specs, non-identifier callees (attribute
        access, subscripts, calls of calls), ``*args``/``**kwargs``, arguments that are not
        literals, or integers beyond the float range (the message names the argument).
    TypeError
        If ``spec`` is not a string.
    """
    if not isinstance(spec, str):
        raise TypeError(f"init.get: a spec must be a str, got {type(spec).__name__}")
    text = spec.strip()
    if len(text) > MAX_SPEC_LENGTH:
        raise ValueError(
            f"init.get: spec is too long ({len(text)} > {MAX_SPEC_LENGTH} characters)"
        )
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": the error below says it
            warnings.simplefilter("ignore", SyntaxWarning)
            node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise ValueError(
            f"init.get: malformed spec {_show(spec)} (expected 'name' or 'name(key=value, ...)'): "
            f"{type(err).__name__}: {err}"
        ) from None
    depth = _tree_depth(node, MAX_SPEC_DEPTH)
    if depth > MAX_SPEC_DEPTH:
        raise ValueError(
            f"init.get: spec {_show(spec)} is nested more than {MAX_SPEC_DEPTH} levels deep "
            "(brackets or unary signs); give each argument as a plain literal such as 0.1"
        )
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


def _build(name: str, args: list[Any], kwargs: dict[str, Any], source: Any) -> Initializer:
    for i, value in enumerate(args):
        _check_numbers(value, f"positional argument {i}", source)
    for key, value in kwargs.items():
        _check_numbers(value, f"argument {key!r}", source)
    factory = _lookup(name)
    signature = _factory_signature(factory)
    if signature is not None:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as err:
            valid = ", ".join(signature.parameters) or "none"
            raise TypeError(
                f"init.get({_show(source)}): {err} (valid arguments of {name!r}: {valid})"
            ) from None
    try:
        return factory(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise type(err)(f"init.get({_show(source)}): {err}") from None
    except ArithmeticError as err:  # OverflowError and kin from a constructor's arithmetic
        raise ValueError(
            f"init.get({_show(source)}): the arguments of {name!r} are out of range "
            f"({type(err).__name__}: {err})"
        ) from None


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
        Unknown name (the message gives the closest match and lists every name), malformed,
        overlong or too deeply nested spec, non-literal argument, an integer beyond the float
        range, or a bad argument value (the message names the argument), including values whose
        draws would overflow (see ``MAX_MAGNITUDE`` in :mod:`tinynet.init.schemes`). Every failure
        of a spec is a ValueError or TypeError raised here, never later when sampling.
    TypeError
        Unknown argument name, an argument of the wrong type, or a spec of an unsupported type.
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
