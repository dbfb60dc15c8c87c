"""Checkpoints of :func:`tinynet.training.fit`: everything needed to resume bit-identically, and the
configuration of the run that wrote them.

A checkpoint is a ``tn.save`` file (``.npz``, no pickle) holding the model, optimizer and scheduler
state, the epoch and step reached, the shuffling seed, the default generator's state, the per-epoch
history, the loss of every optimizer step and, when ``fit(config=...)`` was given one, the run's
configuration (a JSON-ready dict). :func:`read_checkpoint` reads one without touching any model;
:func:`check_config` compares its stored configuration with the one a resumed run asks for.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import is_int
from .._files import json_ready
from ..random import default_generator
from ..serialization import load, save

__all__ = [
    "CHECKPOINT_FORMAT",
    "READABLE_FORMATS",
    "Checkpoint",
    "ConfigMismatchError",
    "check_config",
    "config_mismatches",
    "read_checkpoint",
    "resume_checkpoint",
    "save_checkpoint",
    "validate_checkpoint",
]

#: the format written now: version 2 adds the run's configuration and the per-step losses
CHECKPOINT_FORMAT = "tinynet-fit-2"
#: formats :func:`read_checkpoint` accepts (version 1 stores neither configuration nor step losses)
READABLE_FORMATS = ("tinynet-fit-1", CHECKPOINT_FORMAT)


@dataclass
class Checkpoint:
    """A checkpoint as read by :func:`read_checkpoint`.

    Attributes
    ----------
    path
        The file it was read from.
    format
        One of :data:`READABLE_FORMATS`.
    epoch, step
        Epochs completed and optimizer steps taken when it was written.
    seed
        The shuffling seed of the run.
    history
        The per-epoch entries of :attr:`tinynet.training.FitResult.history` so far.
    step_losses
        Training loss of steps ``1 .. step`` (index ``k - 1`` for step ``k``); NaN for steps a
        version-1 checkpoint did not store.
    config
        The run's configuration as stored by ``fit(config=...)``, or None when it stores none
        (written without one, or by format version 1).
    state
        Everything the file holds (model, optimizer and scheduler state dicts among it).
    optimizer_type
        The class name of the optimizer that wrote it (None for checkpoints older than this field).
    """

    path: str
    format: str
    epoch: int
    step: int
    seed: int
    history: list[dict[str, Any]]
    step_losses: list[float]
    config: dict[str, Any] | None
    state: dict[str, Any] = field(repr=False)
    optimizer_type: str | None = None

    @property
    def model_state(self) -> dict[str, Any]:
        """The model's ``state_dict()`` at the time of writing."""
        return self.state["model"]


def save_checkpoint(
    path: str | os.PathLike[str], model: Any, optimizer: Any, scheduler: Any, epoch: int, step: int,
    seed: int, history: list[dict[str, Any]], step_losses: list[float] | None = None,
    config: Mapping[str, Any] | None = None,
) -> None:  # fmt: skip
    """Write the state of a run after ``epoch`` to ``path`` (atomically, by ``tn.save``): model,
    optimizer and scheduler state, the optimizer's class name, epoch, step, shuffling seed,
    default-generator state, history, the loss of every step so far and the run's ``config``
    (JSON-ready; None stores none)."""
    state: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "optimizer_type": type(optimizer).__name__,
        "epoch": epoch,
        "step": step,
        "seed": str(seed),
        "history": json.dumps(history),
        "step_losses": np.asarray(step_losses if step_losses is not None else [], dtype=np.float64),
        "default_rng": json.dumps(default_generator().bit_generator.state),
    }
    if config is not None:
        state["config"] = json.dumps(json_ready(dict(config)))
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    save(state, path)


#: the entries every checkpoint holds, and what each must be
REQUIRED_KEYS = ("format", "model", "optimizer", "epoch", "step", "seed", "history", "default_rng")


def _unusable(path: Any, why: str) -> ValueError:
    return ValueError(f"fit: resume={str(path)!r} is not a usable checkpoint: {why}")


def _count(state: Mapping[str, Any], key: str, path: Any) -> int:
    value = state[key]
    if not is_int(value) or value < 0:
        raise _unusable(path, f"{key!r} must be an int >= 0, got {type(value).__name__} {value!r:.80}")
    return int(value)


def _json(state: Mapping[str, Any], key: str, path: Any, kind: type) -> Any:
    """Entry ``key`` (a JSON text) decoded, checked to be a ``kind`` (list or dict)."""
    text = state[key]
    if not isinstance(text, str):
        raise _unusable(path, f"{key!r} must be a JSON string, got {type(text).__name__}")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise _unusable(path, f"{key!r} is not readable JSON ({type(error).__name__})") from None
    if not isinstance(value, kind):
        raise _unusable(path, f"{key!r} must hold a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by ``fit(checkpoint=...)`` without loading it into anything.

    Every entry is checked here, so that a resume fails before it changes anything: the
    :data:`REQUIRED_KEYS` are present, epoch and step are ints >= 0, the seed an integer string,
    history, configuration and generator state readable JSON of the right kind, the model,
    optimizer and scheduler states dicts and the step losses a 1-D float array.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not such a checkpoint (another ``.npz``, a corrupt file, an unknown format)
        or an entry is missing or malformed (naming the entry).
    """
    state = load(path)
    found = state.get("format") if isinstance(state, dict) else type(state).__name__
    if not isinstance(found, str) or found not in READABLE_FORMATS:
        raise ValueError(
            f"fit: resume={str(path)!r} is not a checkpoint written by fit(checkpoint=...) "
            f"(expected format {' or '.join(map(repr, READABLE_FORMATS))}, got {found!r:.80})"
        )
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise _unusable(path, f"it lacks {', '.join(map(repr, missing))}")
    for key in ("model", "optimizer", "scheduler"):
        if key in state and not isinstance(state[key], dict):
            raise _unusable(path, f"{key!r} must be a state dict, got {type(state[key]).__name__}")
    epoch, step = _count(state, "epoch", path), _count(state, "step", path)
    seed_text = state["seed"]
    digits = isinstance(seed_text, str) and seed_text.isascii() and seed_text.isdigit()
    if not digits or len(seed_text) > 40:
        raise _unusable(path, f"'seed' must be a string of up to 40 digits, got {seed_text!r:.80}")
    history = _json(state, "history", path, list)
    if not all(isinstance(entry, dict) for entry in history):
        raise _unusable(path, "'history' must be a list of per-epoch dicts")
    _json(state, "default_rng", path, dict)
    config = _json(state, "config", path, dict) if "config" in state else None
    raw = state.get("step_losses", np.zeros(0))
    if not isinstance(raw, np.ndarray) or raw.ndim != 1 or raw.dtype.kind not in "fiu":
        raise _unusable(path, "'step_losses' must be a 1-D array of numbers")
    optimizer_type = state.get("optimizer_type")
    if optimizer_type is not None and not isinstance(optimizer_type, str):
        raise _unusable(path, "'optimizer_type' must be a class name")
    stored = [float(v) for v in raw[:step].astype(np.float64)]
    losses = stored + [math.nan] * (step - len(stored))
    return Checkpoint(
        path=str(path),
        format=found,
        epoch=epoch,
        step=step,
        seed=int(seed_text),
        history=history,
        step_losses=losses,
        config=config,
        state=state,
        optimizer_type=optimizer_type,
    )


def _check_model_state(path: Any, saved: Mapping[str, Any], current: Mapping[str, np.ndarray]) -> None:
    """The checkpoint's model state against the model's own ``state_dict()``: the same names, and
    numeric arrays of the same shapes (every problem listed at once)."""
    problems = []
    missing = [key for key in current if key not in saved]
    unexpected = [str(key) for key in saved if key not in current]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected)}")
    for key, array in current.items():
        value = saved.get(key)
        if key not in saved:
            continue
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            problems.append(f"{key} is not a numeric array")
        elif value.shape != array.shape:
            problems.append(f"{key} has shape {value.shape}, the model's is {array.shape}")
    if problems:
        raise _unusable(path, "its model state does not fit this model: " + "; ".join(problems))


def validate_checkpoint(
    ckpt: Checkpoint, model: Any, optimizer: Any, scheduler: Any = None,
    *, model_state: Mapping[str, np.ndarray] | None = None,
) -> None:  # fmt: skip
    """Check that :func:`resume_checkpoint` can load ``ckpt`` into these objects, changing nothing.

    Checked: the model state (names and shapes, against ``model.state_dict()`` or the given
    ``model_state``), the optimizer's class (when the checkpoint names it) and state (by its
    ``check_state_dict``: groups, options, per-parameter fields and shapes), the scheduler state
    (present when a scheduler is given, and accepted by a copy of the scheduler) and the default
    generator's state (accepted by a copy of the generator).

    Raises
    ------
    ValueError
        Naming the checkpoint and the first part that does not fit.
    """
    path = ckpt.path
    state = ckpt.state
    _check_model_state(path, state["model"], model.state_dict() if model_state is None else model_state)
    kind = type(optimizer).__name__
    if ckpt.optimizer_type is not None and ckpt.optimizer_type != kind:
        raise _unusable(
            path, f"it holds the state of the optimizer {ckpt.optimizer_type}, this run's is {kind}"
        )
    checker = getattr(optimizer, "check_state_dict", None)
    try:
        if checker is not None:
            checker(state["optimizer"])
        if scheduler is not None:
            if "scheduler" not in state:
                raise ValueError("it holds no scheduler state, but a scheduler was given")
            probe = copy.deepcopy(scheduler, {id(optimizer): optimizer})  # shares the optimizer
            probe.load_state_dict(copy.deepcopy(state["scheduler"]))
        generator = copy.deepcopy(default_generator().bit_generator)
        generator.state = json.loads(state["default_rng"])
    except (ValueError, TypeError, KeyError) as error:
        raise _unusable(path, str(error)) from None


class _Snapshot:
    """The state of a model, optimizer, scheduler and the default generator, to put back exactly
    if loading a checkpoint fails half-way."""

    def __init__(self, model: Any, optimizer: Any, scheduler: Any) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.model_state = model.state_dict()  # copies
        groups = getattr(optimizer, "param_groups", None)
        self.direct = isinstance(groups, list) and isinstance(getattr(optimizer, "state", None), dict)
        if self.direct:  # a tinynet Optimizer: its own groups and state, exactly
            self.groups = [
                {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
                for group in groups
            ]
            self.state = {p: copy.deepcopy(entry) for p, entry in optimizer.state.items()}
        else:
            self.optimizer_state = optimizer.state_dict()
        self.scheduler_state = scheduler.state_dict() if scheduler is not None else None
        self.rng_state = copy.deepcopy(default_generator().bit_generator.state)

    def restore(self) -> None:
        self.model.load_state_dict(self.model_state)
        if self.direct:
            for group, options in zip(self.optimizer.param_groups, self.groups, strict=True):
                params = group["params"]
                group.clear()
                group.update({"params": params, **options})
            self.optimizer.state = self.state
        else:
            self.optimizer.load_state_dict(self.optimizer_state)
        if self.scheduler is not None:
            self.scheduler.load_state_dict(self.scheduler_state)
        default_generator().bit_generator.state = self.rng_state


def resume_checkpoint(
    path: str | os.PathLike[str] | Checkpoint, model: Any, optimizer: Any, scheduler: Any
) -> Checkpoint:
    """Load a :func:`save_checkpoint` file (or a :class:`Checkpoint` already read) into ``model``,
    ``optimizer`` and ``scheduler`` and restore the default generator; returns the checkpoint.

    Transactional: everything is validated first (:func:`validate_checkpoint`), before anything is
    written; should a load still fail, the model, optimizer, scheduler and default generator are
    put back exactly as they were (bit-identical) before the error propagates.

    Raises
    ------
    ValueError
        If the file is not such a checkpoint, or any part of it does not fit these objects (a
        model of other shapes, another optimizer, no scheduler state while a scheduler is given).
    """
    ckpt = path if isinstance(path, Checkpoint) else read_checkpoint(path)
    snapshot = _Snapshot(model, optimizer, scheduler)
    try:
        validate_checkpoint(ckpt, model, optimizer, scheduler, model_state=snapshot.model_state)
        model.load_state_dict(ckpt.state["model"])
        optimizer.load_state_dict(ckpt.state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(ckpt.state["scheduler"])
        default_generator().bit_generator.state = json.loads(ckpt.state["default_rng"])
    except BaseException:
        snapshot.restore()
        raise
    return ckpt


# ------------------------------------------------------------------------------ configurations
def config_mismatches(
    stored: Mapping[str, Any], given: Mapping[str, Any], keys: Iterable[str]
) -> list[tuple[str, Any, Any]]:
    """The ``(key, stored value, given value)`` triples of ``keys`` on which two configurations
    differ, in the order of ``keys``. A key missing from one side counts as None there; values are
    compared after a JSON round trip (so a tuple equals a list, 1 equals 1.0)."""
    a, b = json_ready(dict(stored)), json_ready(dict(given))
    return [(key, a.get(key), b.get(key)) for key in keys if a.get(key) != b.get(key)]


class ConfigMismatchError(ValueError):
    """A checkpoint resumed under a configuration other than the one that wrote it (or one that
    stores no configuration at all).

    Attributes
    ----------
    path
        The checkpoint's path.
    mismatches
        ``(key, checkpoint value, requested value)`` per differing key; empty when the checkpoint
        stores no configuration.
    stored
        The checkpoint's configuration, or None.
    """

    def __init__(
        self, path: str, mismatches: list[tuple[str, Any, Any]], stored: dict[str, Any] | None
    ) -> None:
        self.path = path
        self.mismatches = mismatches
        self.stored = stored
        super().__init__(self.describe() + "; force=True continues anyway")

    def describe(self, given: str = "this run") -> str:
        """The problem in one line, naming every mismatch with both values (``given`` names the
        requested side: ``"init: checkpoint 'xavier', command line 'he'"``)."""
        if self.stored is None:
            return (
                f"checkpoint {self.path!r} stores no run configuration (written by an older tinynet "
                "or without fit(config=...)), so it cannot be checked to belong to this run"
            )
        parts = [f"{key}: checkpoint {old!r}, {given} {new!r}" for key, old, new in self.mismatches]
        return f"checkpoint {self.path!r} was written by another configuration: " + "; ".join(parts)


def check_config(
    checkpoint: Checkpoint, config: Mapping[str, Any], keys: Iterable[str], *, force: bool = False
) -> ConfigMismatchError | None:
    """Check that ``checkpoint`` was written under ``config`` on every key of ``keys``.

    Returns None when they agree. Otherwise the :class:`ConfigMismatchError` is raised, or, with
    ``force=True``, returned (for the caller to warn with its :meth:`~ConfigMismatchError.describe`).
    A checkpoint that stores no configuration is treated as a mismatch.

    Raises
    ------
    ConfigMismatchError
        When the configurations differ (or the checkpoint has none) and ``force`` is False.
    """
    problem: ConfigMismatchError | None
    if checkpoint.config is None:
        problem = ConfigMismatchError(checkpoint.path, [], None)
    else:
        found = config_mismatches(checkpoint.config, config, keys)
        problem = ConfigMismatchError(checkpoint.path, found, checkpoint.config) if found else None
    if problem is not None and not force:
        raise problem
    return problem
