"""``Sequential``: modules applied one after another, and the pairs of modules it runs as one fused op."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .. import init
from .._checks import is_int
from .module import Module

__all__ = ["FUSED_PAIRS", "Sequential"]


#: Pairs of module types that ``Sequential`` runs as one fused op: ``(type(first), type(second))`` →
#: a function ``(first, x) -> second(first(x))`` with the same values and gradients. Exact types only,
#: so a subclass with a forward of its own is never fused. Filled by the modules that offer one
#: (``nn.linear`` registers Linear → ReLU).
FUSED_PAIRS: dict[tuple[type, type], Callable[[Any, Any], Any]] = {}


class Sequential(Module):
    """Modules applied one after another: ``forward(x) = m_n(...m_2(m_1(x)))``.

    ``Sequential(m1, m2, ...)`` names the children "0", "1", ...; ``Sequential({"name": m, ...})``
    uses the given names. Indexable (``seq[0]``, ``seq[-1]``), sliceable (``seq[1:]`` is a new
    ``Sequential`` sharing the same modules, under their original names), iterable, with ``len``.

    After construction, every layer whose weight initializer has ``gain="auto"`` is re-initialized
    with the gain of the activation that follows it (``tinynet.init.resolve_auto_gain``). Slicing
    does not re-initialize anything; after ``append``/``insert``, call
    ``init.resolve_auto_gain(model)`` yourself if the new modules change which activation follows an
    "auto" layer.

    ``fuse`` (default True) lets the forward pass run a Linear and the ReLU right after it as one op
    (see :meth:`forward`); set it to False on an instance to see every module's op in the graph.
    """

    fuse: bool = True

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self._add(str(name), module)
        else:
            for index, module in enumerate(modules):
                self._add(str(index), module)
        init.resolve_auto_gain(self)

    def _add(self, name: str, module: Any) -> None:
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential: item {name!r} must be a Module, got {type(module).__name__}"
            )
        self.add_module(name, module)

    @classmethod
    def _from_items(cls, items: Iterable[tuple[str, Module]]) -> Sequential:
        new = cls.__new__(cls)
        Module.__init__(new)
        for name, module in items:
            new.add_module(name, module)
        return new

    def _index(self, index: Any) -> str:
        if not is_int(index):
            raise TypeError(f"Sequential indices must be ints or slices, got {type(index).__name__}")
        index, n = int(index), len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"Sequential: index {index} is out of range for {n} modules")
        return list(self._modules)[index % n]

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        return self._modules[self._index(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        name = self._index(index)
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential: item {name!r} must be a Module, got {type(module).__name__}"
            )
        setattr(self, name, module)

    def __delitem__(self, index: int | slice) -> None:
        names = list(self._modules)
        chosen = names[index] if isinstance(index, slice) else [self._index(index)]
        for name in chosen:
            delattr(self, name)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by the next free integer. Returns self."""
        name = str(len(self._modules))
        while name in self._modules:
            name = str(int(name) + 1)
        self._add(name, module)
        return self

    def forward(self, x: Any) -> Any:
        """Pass ``x`` through each module in order.

        With ``fuse`` on (the default), a pair of modules listed in :data:`FUSED_PAIRS` (a ``Linear``
        directly followed by a ``ReLU``) runs as one op when neither has hooks: the same values and
        gradients to the bit, one graph node fewer. Set ``fuse = False`` on a model to record every
        module's op on its own.
        """
        modules = list(self._modules.values())
        count = len(modules)
        fuse = self.fuse
        i = 0
        while i < count:
            module = modules[i]
            i += 1
            # Module.__call__'s no-hook path, inlined: one Python call fewer per layer and step
            # (unless a subclass has its own __call__).
            if (
                module._forward_pre_hooks
                or module._forward_hooks
                or type(module).__call__ is not Module.__call__
            ):
                x = module(x)
                continue
            if fuse and i < count:
                pair = FUSED_PAIRS.get((type(module), type(modules[i])))
                if pair is not None and not (
                    modules[i]._forward_pre_hooks or modules[i]._forward_hooks
                ):
                    x = pair(module, x)
                    i += 1
                    continue
            x = module.forward(x)
        return x
