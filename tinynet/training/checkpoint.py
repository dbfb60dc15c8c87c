"""Checkpoints of :func:`tinynet.training.fit`: everything needed to resume bit-identically, and the
configuration of the run that wrote them.

A checkpoint is a ``tn.save`` file (``.npz``, no pickle) holding the model, optimizer and scheduler
state, the epoch and step reached, the shuffling seed, the default generator's state, the per-epoch
history, the loss of every optimizer step and, when ``fit(config=...)`` was given one, the run's
configuration (a JSON-ready dict). :func:`read_checkpoint` reads one without touching any model;
:func:`check_config` compares its stored configuration with the one a resumed run asks for.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    optimizer and scheduler state, epoch, step, shuffling seed, default-generator state, history,
    the loss of every step so far and the run's ``config`` (JSON-ready; None stores none)."""
    state: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
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


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by ``fit(checkpoint=...)`` without loading it into anything.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not such a checkpoint (another ``.npz``, a corrupt file, an unknown format).
    """
    state = load(path)
    found = state.get("format") if isinstance(state, dict) else type(state).__name__
    if found not in READABLE_FORMATS:
        raise ValueError(
            f"fit: resume={str(path)!r} is not a checkpoint written by fit(checkpoint=...) "
            f"(expected format {' or '.join(map(repr, READABLE_FORMATS))}, got {found!r})"
        )
    step = int(state["step"])
    stored = [float(v) for v in np.asarray(state.get("step_losses", []), dtype=np.float64)]
    losses = stored + [math.nan] * (step - len(stored))
    config = json.loads(str(state["config"])) if "config" in state else None
    return Checkpoint(
        path=str(path),
        format=str(found),
        epoch=int(state["epoch"]),
        step=step,
        seed=int(str(state["seed"])),
        history=json.loads(str(state["history"])),
        step_losses=losses[:step],
        config=config,
        state=state,
    )


def resume_checkpoint(
    path: str | os.PathLike[str], model: Any, optimizer: Any, scheduler: Any
) -> Checkpoint:
    """Load a :func:`save_checkpoint` file into ``model``, ``optimizer`` and ``scheduler`` and restore
    the default generator; returns the :class:`Checkpoint` read.

    Raises
    ------
    ValueError
        If the file is not such a checkpoint, or holds no scheduler state while a scheduler is given.
    """
    ckpt = read_checkpoint(path)
    model.load_state_dict(ckpt.state["model"])
    optimizer.load_state_dict(ckpt.state["optimizer"])
    if scheduler is not None:
        if "scheduler" not in ckpt.state:
            raise ValueError(
                f"fit: resume={str(path)!r} holds no scheduler state, but a scheduler was given"
            )
        scheduler.load_state_dict(ckpt.state["scheduler"])
    default_generator().bit_generator.state = json.loads(str(ckpt.state["default_rng"]))
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
