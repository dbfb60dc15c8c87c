"""``Module`` (a node of a model tree that owns parameters, buffers and sub-modules) and ``Parameter``.

Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers it, in assignment
order; that order is the order of ``named_parameters()``, ``state_dict()`` and, in a ``Sequential``,
of the forward pass (``nn.sequential``). Registered values also live in the instance ``__dict__``, so reading
``self.weight`` in ``forward`` is a plain attribute lookup.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Tensor, get_default_dtype

__all__ = ["LoadResult", "Module", "Parameter", "RemovableHandle"]


class Parameter(Tensor):
    """A Tensor that a :class:`Module` owns and an optimizer updates; ``requires_grad=True``.

    ``Parameter(data)`` takes a Tensor (its array is shared, not copied), a float numpy array (kept
    as is), or a number/list (converted to the default dtype). Like every Tensor, ``p.data`` may be
    reassigned with a new array; optimizers and initializers keep the same ``Parameter`` object.

    Raises
    ------
    TypeError
        If the data is not floating point (only float tensors can require gradients).
    """

    __slots__ = ()
    # Optimizer state is keyed by parameter identity, whatever Tensor's __eq__ does.
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        if isinstance(data, Tensor):
            array = data.data
        elif isinstance(data, (np.ndarray, np.generic)):
            array = np.asarray(data)
        else:
            array = np.asarray(data)
            if array.dtype.kind in "biu":
                array = array.astype(get_default_dtype())
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by ``register_forward_hook``: ``handle.remove()`` unregisters the hook.

    Also a context manager that removes the hook on exit.
    """

    _ids = itertools.count()

    def __init__(self, table: dict[int, Callable[..., Any]]) -> None:
        self._table = table
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: keys the model has but the state lacked, and
    the reverse."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _check_name(name: Any, kind: str, owner: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(
            f"{type(owner).__name__}: {kind} name must be a str, got {type(name).__name__}"
        )
    if not name or "." in name:
        raise ValueError(
            f"{type(owner).__name__}: {kind} name must be non-empty and contain no '.', got "
            f"{name!r}"
        )


class Module:
    """Base class of every network part: owns parameters, buffers and sub-modules.

    Subclasses call ``super().__init__()`` first, assign parameters and sub-modules as attributes
    (which registers them, in order), and define ``forward``. ``module(*args)`` runs the forward
    hooks around ``forward``.

    Attributes
    ----------
    training : bool
        True in training mode (the default); :meth:`eval` sets it to False for the whole tree.
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}

    # ------------------------------------------------------------------ registration
    def _registry(self, name: str, value: Any) -> dict[str, Any]:
        table = self.__dict__.get(name)
        if table is None:
            raise AttributeError(
                f"cannot register {type(value).__name__} before Module.__init__() has run; call "
                f"super().__init__() first in {type(self).__name__}.__init__"
            )
        return table

    def _forget(self, name: str) -> None:
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            d[table].pop(name, None)
        d["_non_persistent"].discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if isinstance(value, Parameter):
            params = self._registry("_parameters", value)
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            modules = self._registry("_modules", value)
            self._forget(name)
            modules[name] = value
        elif name in d.get("_parameters", ()):
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a parameter: assign a Parameter or None, got "
                    f"{type(value).__name__} (to change its values, assign to .{name}.data)"
                )
            d["_parameters"][name] = None
        elif name in d.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a sub-module: assign a Module or None, got "
                    f"{type(value).__name__}"
                )
            d["_modules"][name] = None
        elif name in d.get("_buffers", ()):
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(
                    f"{type(self).__name__}.{name} is a buffer: assign a numpy array or None, got "
                    f"{type(value).__name__}"
                )
            d["_buffers"][name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if "_parameters" in self.__dict__:
            self._forget(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or an empty slot, ``None``, as ``Linear`` does without bias) under
        ``name``.

        Raises
        ------
        TypeError
            If ``param`` is neither a Parameter nor None.
        """
        _check_name(name, "parameter", self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a Parameter or None, got "
                f"{type(param).__name__}"
            )
        table = self._registry("_parameters", param)
        self._forget(name)
        table[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, array: np.ndarray | None, persistent: bool = True) -> None:
        """Register a non-trainable array (e.g. BatchNorm's running statistics) under ``name``.

        Persistent buffers appear in :meth:`state_dict` after the module's parameters.

        Raises
        ------
        TypeError
            If ``array`` is neither a numpy array nor None.
        """
        _check_name(name, "buffer", self)
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(
                f"register_buffer: {name!r} must be a numpy array or None, got "
                f"{type(array).__name__}"
            )
        table = self._registry("_buffers", array)
        self._forget(name)
        table[name] = array
        if not persistent:
            self.__dict__["_non_persistent"].add(name)
        object.__setattr__(self, name, array)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child under ``name`` (same as assigning the attribute)."""
        _check_name(name, "module", self)
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: {name!r} must be a Module or None, got {type(module).__name__}"
            )
        table = self._registry("_modules", module)
        self._forget(name)
        table[name] = module
        object.__setattr__(self, name, module)

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks):  # no hooks: the per-layer hot path
            return self.forward(*args, **kwargs)
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                replaced = hook(self, args)
                if replaced is not None:
                    args = replaced if isinstance(replaced, tuple) else (replaced,)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                replaced = hook(self, args, out)
                if replaced is not None:
                    out = replaced
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; ``inputs`` is the tuple of
        positional arguments. A hook that returns something other than None replaces the output.

        Returns
        -------
        RemovableHandle
            ``handle.remove()`` unregisters the hook.
        """
        if not callable(hook):
            raise TypeError(
                f"register_forward_hook: hook must be callable, got {type(hook).__name__}"
            )
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward; a non-None result replaces the
        inputs."""
        if not callable(hook):
            raise TypeError(
                f"register_forward_pre_hook: hook must be callable, got {type(hook).__name__}"
            )
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(dotted_name, module)`` for self (named ``prefix``, "" by default) and every
        descendant, depth-first in registration order; a module reachable twice is listed once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{key}" if name else key, child)
                for key, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """Self, then every descendant depth-first in registration (for Sequential: forward)
        order."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct sub-modules, in registration order."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in registration order."""
        for _, child in self.named_children():
            yield child

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, Parameter)`` such as ``"0.weight"`` or ``"encoder.1.bias"``, module by
        module in :meth:`modules` order; a shared parameter is listed once (under its first
        name)."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, in :meth:`named_parameters` order."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, np.ndarray]]:
        """``(dotted_name, array)`` for every registered buffer that is not None."""
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buf

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        """Every buffer, in :meth:`named_buffers` order."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every sub-module (children first, recursively) and then on self.

        Returns self.
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on self and every descendant;
        returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout is the identity, BatchNorm uses its running statistics. Returns
        self."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: set it to None (default) or fill it with zeros."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.fill(0)

    # ------------------------------------------------------------------ state
    def _state_entries(self) -> Iterator[tuple[str, Module, str, bool]]:
        """``(key, owner, attribute, is_parameter)`` for every parameter and persistent buffer:
        per module (depth-first), its parameters, then its buffers."""
        for module_name, module in self.named_modules():
            dotted = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield dotted + name, module, name, True
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent:
                    yield dotted + name, module, name, False

    def state_dict(self) -> dict[str, np.ndarray]:
        """An (insertion-ordered) dict ``dotted_name -> copy of the array`` of every parameter and
        persistent buffer (e.g. BatchNorm's running statistics), ready for :func:`tinynet.save`."""
        out: dict[str, np.ndarray] = {}
        for key, module, name, is_param in self._state_entries():
            value = module.__dict__[name]
            out[key] = (value.data if is_param else value).copy()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy arrays from ``state_dict`` into this module's parameters and buffers.

        Everything is checked before anything is copied, so a call that raises changes nothing.
        Values are converted to each target's dtype (arrays, Tensors and nested lists are accepted).

        Parameters
        ----------
        state_dict
            ``dotted_name -> array``, as returned by :meth:`state_dict` (or :func:`tinynet.load`).
        strict
            If True, keys missing from ``state_dict`` and keys the model does not have are errors;
            if False they are skipped and returned.

        Returns
        -------
        LoadResult
            ``(missing_keys, unexpected_keys)``, both empty after a strict load.

        Raises
        ------
        ValueError
            Listing by name every missing key and unexpected key (when ``strict``), and every shape
            mismatch (always).
        TypeError
            If ``state_dict`` is not a mapping or a value is not numeric.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                "load_state_dict: expected a mapping of names to arrays, got "
                f"{type(state_dict).__name__}"
            )
        targets = {
            key: (module, name, is_param) for key, module, name, is_param in self._state_entries()
        }
        missing = [key for key in targets if key not in state_dict]
        unexpected = [str(key) for key in state_dict if key not in targets]
        problems: list[str] = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        staged: list[tuple[Module, str, bool, np.ndarray]] = []
        for key, (module, name, is_param) in targets.items():
            if key not in state_dict:
                continue
            current = module.__dict__[name]
            current = current.data if is_param else current
            value = state_dict[key]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.dtype.kind not in "biuf":
                raise TypeError(
                    f"load_state_dict: {key!r} must be a numeric array, got dtype {value.dtype}"
                )
            if value.shape != current.shape:
                problems.append(
                    f"shape mismatch for {key}: checkpoint {value.shape}, model {current.shape}"
                )
                continue
            staged.append((module, name, is_param, value.astype(current.dtype, copy=True)))
        if problems:
            raise ValueError(
                f"load_state_dict: nothing was loaded into {type(self).__name__}: "
                + "; ".join(problems)
            )
        for module, name, is_param, value in staged:
            if is_param:
                module.__dict__[name].data = value
            else:
                module._buffers[name] = value
                object.__setattr__(module, name, value)
        return LoadResult(missing if not strict else [], unexpected if not strict else [])

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line (its options)."""
        return ""

    def _shapes(self) -> str:
        shapes = [f"{name} {p.shape}" for name, p in self._parameters.items() if p is not None]
        return f"  # {', '.join(shapes)}" if shapes else ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not any(child is not None for child in self._modules.values()):
            return head + ")" + self._shapes()
        lines = [head + ("" if head.endswith("(") else ",") + self._shapes()]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)
