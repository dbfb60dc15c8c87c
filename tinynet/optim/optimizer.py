"""``Optimizer``: parameter groups, per-parameter state, ``step``/``zero_grad``, and state dicts."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._checks import check_real, is_int, is_real
from ..function import enable_grad
from ..tensor import Tensor

__all__ = ["SCRATCH_MIN_BYTES", "Optimizer", "check_nonnegative", "check_unit_interval", "effective_lr"]


#: Parameters of at least this many bytes get scratch buffers for their update's temporaries
#: (:meth:`Optimizer._scratch`); smaller ones allocate, which is cheaper than a lookup.
SCRATCH_MIN_BYTES = 64 * 1024


def check_nonnegative(owner: str, name: str, value: Any) -> None:
    """Check that ``value`` is a finite real number >= 0 (an optimizer option such as ``lr``).

    Raises
    ------
    TypeError
        If ``value`` is not a real number (``bool`` included).
    ValueError
        If it is negative, NaN or infinite.
    """
    check_real(owner, name, value, minimum=0)


def check_unit_interval(owner: str, name: str, value: Any) -> None:
    """Check that ``value`` is a real number with ``0 <= value < 1`` (a decay rate such as a beta).

    Raises
    ------
    TypeError
        If ``value`` is not a real number (``bool`` included).
    ValueError
        If it is outside ``[0, 1)`` or not finite.
    """
    number = check_real(owner, name, value)
    if not 0 <= number < 1:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value!r}")


def effective_lr(group: dict[str, Any]) -> float:
    """The rate an optimizer applies to a group: ``group["lr"] * group.get("lr_mult", 1.0)``.

    ``"lr_mult"`` is a per-group multiplier (set by :func:`tinynet.init.parametrize`, e.g. µP's
    ``base_width / fan_in``); schedulers change ``"lr"`` only, so the multiplier rides on top of
    every schedule.
    """
    return float(group["lr"]) * float(group.get("lr_mult", 1.0))


class Optimizer:
    """Base class: owns parameter groups and per-parameter state, and updates parameters in
    ``step()``.

    ``params`` is an iterable of Parameters, or of dicts (*parameter groups*), each with a
    ``"params"`` list and any options that override the optimizer's defaults for that group, e.g.
    ``[{"params": weights}, {"params": biases, "weight_decay": 0.0}]``.

    A group may hold ``"lr_mult"`` (a number >= 0, default 1): every optimizer applies the rate
    ``lr * lr_mult`` (:func:`effective_lr`) to that group, schedulers act on ``"lr"`` only, and
    ``state_dict``/``load_state_dict`` keep it like any other group option.

    Subclasses define ``_validate(group)`` (check a group's options), ``_init_state(param, group)``
    (the state of a parameter before its first update) and ``_update(param, grad, state, group)``
    (update the array ``param`` in place). ``step()`` skips parameters whose ``.grad`` is None.

    Attributes
    ----------
    param_groups : list of dict
        Each holds ``"params"`` (a list of Parameters) and the group's options (``"lr"``, ...).
    state : dict
        Parameter -> dict of its state (arrays and the step count), created on its first update.
    defaults : dict
        The options given to the constructor.

    Raises
    ------
    TypeError
        If ``params`` is a single Tensor, or holds something that is not a Tensor requiring grad.
    ValueError
        If there are no parameters, a parameter appears twice, or an option is invalid.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self._work: dict[tuple[Any, ...], np.ndarray] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Parameters or of dicts, "
                "got a single Tensor; wrap it in a list"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with ``"params"`` and optional per-group options).

        Raises
        ------
        TypeError, ValueError
            As for the constructor; also if a parameter already belongs to another group.
        """
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(
                f"{name}: a parameter group must be a dict with a 'params' key, got {group!r}"
            )
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen: set[int] = set()
        for p in self.param_groups:
            seen.update(id(q) for q in p["params"])
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: params[{i}] must be a Parameter/Tensor, got {type(p).__name__}"
                )
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(
                    f"{name}: params[{i}] must be a leaf tensor with requires_grad=True"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{name}: params[{i}] (shape {p.shape}) appears more than once across the "
                    "parameter groups"
                )
            seen.add(id(p))
        new = {key: value for key, value in group.items() if key != "params"}
        for key, value in self.defaults.items():
            new.setdefault(key, value)
        self._validate(new)
        new = {"params": params, **new}
        self.param_groups.append(new)

    def _validate(self, group: dict[str, Any]) -> None:
        """Check a group's options (``lr`` and an optional ``lr_mult``); subclasses add theirs."""
        check_nonnegative(type(self).__name__, "lr", group.get("lr"))
        if "lr_mult" in group:
            check_nonnegative(type(self).__name__, "lr_mult", group["lr_mult"])

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define _update()")

    def _scratch(self, like: np.ndarray, slot: int = 0) -> np.ndarray | None:
        """A work array of ``like``'s shape and dtype for the temporaries of one update, or None
        for a small parameter (then ``np.multiply(g, lr, None)`` simply allocates).

        Why: ``lr * g`` and its kind would otherwise allocate a fresh parameter-sized array per
        temporary, per parameter, per step; on machines where fresh memory costs page faults that is
        a visible share of a small step. Below :data:`SCRATCH_MIN_BYTES` a fresh array is cheaper
        than the lookup. Updates run one after another, so parameters of one shape share a buffer
        (``slot`` tells a rule's simultaneous temporaries apart). Scratch is never part of
        ``state`` and holds nothing between calls; ``np.multiply(g, lr, out)`` for ``lr * g``
        rounds exactly as the expression does.
        """
        if like.nbytes < SCRATCH_MIN_BYTES:
            return None
        key = (like.shape, like.dtype, slot)
        work = self._work.get(key)
        if work is None:
            work = self._work[key] = np.empty(like.shape, like.dtype)
        return work

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter: None (default) or zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place of ``p.data``.

        ``closure``, if given, is called first (with gradients enabled) to recompute the loss; its
        result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        """Update every parameter of ``group`` that has a gradient: ``_update`` on each, its state made
        by ``_init_state`` before its first update. A rule may override this with a fast path for
        groups whose options make the rule simpler (SGD without momentum and weight decay)."""
        states = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = states.get(p)
            if state is None:
                state = states[p] = self._init_state(p.data, group)
            self._update(p.data, grad, state, group)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain data, for :func:`tinynet.save`.

        ``{"state": {index: {name: copy of array or number}}, "param_groups": [{option: value,
        "params": [index, ...]}]}``, where parameters are numbered 0, 1, ... across the groups in
        order (PyTorch's layout); only parameters that have state appear in ``"state"``.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        key: value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)
                        for key, value in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def check_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Check that :meth:`load_state_dict` would accept ``state_dict``, changing nothing.

        Used to validate a whole checkpoint (model, optimizer, scheduler) before anything of it is
        loaded. Raises exactly what :meth:`load_state_dict` raises.
        """
        self._staged(state_dict)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and group options saved by :meth:`state_dict` into this optimizer,
        whose groups must hold the same numbers of parameters (matched by position). Arrays are
        copied and converted to each parameter's dtype. Everything is checked first (as
        :meth:`check_state_dict` does): a call that raises changes nothing.

        The state must be this optimizer's kind: every saved group holds each of this optimizer's
        options (``self.defaults``; an SGD group has no ``betas``, so Adam refuses it), and each
        parameter's state holds exactly the fields this optimizer keeps, arrays of the parameter's
        shape and numbers where it keeps numbers.

        Raises
        ------
        ValueError
            If the group structure differs, a group lacks an option of this optimizer, an index is
            unknown, a state field is missing or unknown, or a state array has the wrong shape.
        TypeError
            If ``state_dict`` is not of the documented form, or a state field is of the wrong type.
        """
        new_groups, new_state = self._staged(state_dict)
        for group, options in zip(self.param_groups, new_groups, strict=True):
            group.update(options)
        self.state = new_state

    def _staged(
        self, state_dict: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[Tensor, dict[str, Any]]]:
        """The group options and per-parameter state that ``state_dict`` would install, checked."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise TypeError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups', got "
                f"{type(state_dict).__name__}"
                + (
                    f" with keys {sorted(map(str, state_dict))}"
                    if isinstance(state_dict, dict)
                    else ""
                )
            )
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, dict):
            raise TypeError(
                f"{name}.load_state_dict: 'param_groups' must be a list and 'state' a dict, got "
                f"{type(saved_groups).__name__} and {type(saved_state).__name__}"
            )
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(saved_groups)} parameter groups, this "
                f"optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        new_groups = []
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise TypeError(
                    f"{name}.load_state_dict: param_groups[{g}] must be a dict with a 'params' list"
                )
            ids = list(saved["params"])
            if len(ids) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: group {g} has {len(ids)} parameters in the state, "
                    f"{len(group['params'])} in this optimizer"
                )
            lacking = [key for key in self.defaults if key not in saved]
            if lacking:
                raise ValueError(
                    f"{name}.load_state_dict: param_groups[{g}] lacks {name}'s option(s) "
                    f"{', '.join(map(repr, lacking))}: it was saved by another kind of optimizer "
                    f"(its options: {', '.join(sorted(map(str, saved)))})"
                )
            options = {key: copy.deepcopy(value) for key, value in saved.items() if key != "params"}
            merged = {**group, **options}
            self._validate(merged)
            new_groups.append(options)
            for i, p in zip(ids, group["params"], strict=True):
                if not is_int(i):
                    raise TypeError(
                        f"{name}.load_state_dict: param_groups[{g}]['params'] must hold parameter "
                        f"indices (ints), got {i!r}"
                    )
                by_index[int(i)] = (p, merged)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, saved in saved_state.items():
            try:
                p, group = by_index[int(key)]
            except (KeyError, ValueError, TypeError):
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter index {key!r}, which no group "
                    "lists"
                ) from None
            if not isinstance(saved, dict):
                raise TypeError(
                    f"{name}.load_state_dict: state[{key}] must be a dict, got {type(saved).__name__}"
                )
            new_state[p] = self._staged_entry(key, saved, p, group)
        return new_groups, new_state

    def _staged_entry(
        self, key: Any, saved: dict[str, Any], p: Tensor, group: dict[str, Any]
    ) -> dict[str, Any]:
        """One parameter's saved state, checked against the fields this optimizer keeps for it
        (its ``_init_state``) and converted (arrays copied to the parameter's dtype)."""
        name = type(self).__name__
        template = self._init_state(p.data, group)
        unknown = [str(field) for field in saved if field not in template]
        missing = [field for field in template if field not in saved]
        if unknown or missing:
            parts = ([f"lacks {', '.join(map(repr, missing))}"] if missing else []) + (
                [f"has {', '.join(map(repr, unknown))}, which {name} does not keep"] if unknown else []
            )
            raise ValueError(f"{name}.load_state_dict: state[{key}] " + " and ".join(parts))
        entry: dict[str, Any] = {}
        for field, value in saved.items():
            expected = template[field]
            if isinstance(value, np.ndarray):
                # a field kept as None until first needed (SGD's momentum buffer) is param-shaped
                shape = expected.shape if isinstance(expected, np.ndarray) else p.shape
                if expected is not None and not isinstance(expected, np.ndarray):
                    raise TypeError(
                        f"{name}.load_state_dict: state[{key}][{field!r}] must be a number, got an "
                        f"array of shape {value.shape}"
                    )
                if value.shape != shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state[{key}][{field!r}] has shape "
                        f"{value.shape}, the parameter needs {shape}"
                    )
                if value.dtype.kind not in "biuf":
                    raise TypeError(
                        f"{name}.load_state_dict: state[{key}][{field!r}] must be a numeric "
                        f"array, got dtype {value.dtype}"
                    )
                value = value.astype(p.dtype if value.dtype.kind == "f" else value.dtype, copy=True)
            elif (
                isinstance(expected, np.ndarray)
                or (expected is None and value is not None)
                or (is_real(expected) and not is_real(value))
            ):
                wanted = "a number" if is_real(expected) else "an array"
                raise TypeError(
                    f"{name}.load_state_dict: state[{key}][{field!r}] must be {wanted}"
                    f"{' or None' if expected is None else ''}, got {type(value).__name__}"
                )
            else:
                value = copy.deepcopy(value)
            entry[field] = value
        return entry

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
