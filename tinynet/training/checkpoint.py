"""Checkpoints of :func:`tinynet.training.fit`: everything needed to resume bit-identically."""

from __future__ import annotations

import json
import os
from typing import Any

from ..random import default_generator
from ..serialization import load, save

__all__ = ["CHECKPOINT_FORMAT", "resume_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "tinynet-fit-1"


def save_checkpoint(
    path: str | os.PathLike[str], model: Any, optimizer: Any, scheduler: Any, epoch: int, step: int,
    seed: int, history: list[dict[str, Any]],
) -> None:  # fmt: skip
    """Write the state of a run after ``epoch`` to ``path`` (atomically, by ``tn.save``): model,
    optimizer and scheduler state, epoch, step, shuffling seed, default-generator state and history."""
    state: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "step": step,
        "seed": str(seed),
        "history": json.dumps(history),
        "default_rng": json.dumps(default_generator().bit_generator.state),
    }
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    save(state, path)


def resume_checkpoint(
    path: str | os.PathLike[str], model: Any, optimizer: Any, scheduler: Any
) -> tuple[int, int, int, list[dict[str, Any]]]:
    """Load a :func:`save_checkpoint` file into ``model``, ``optimizer`` and ``scheduler`` and restore
    the default generator; returns ``(epoch, step, seed, history)``.

    Raises
    ------
    ValueError
        If the file is not such a checkpoint, or holds no scheduler state while a scheduler is given.
    """
    state = load(path)
    found = state.get("format") if isinstance(state, dict) else type(state).__name__
    if found != CHECKPOINT_FORMAT:
        raise ValueError(
            f"fit: resume={str(path)!r} is not a checkpoint written by fit(checkpoint=...) "
            f"(expected format {CHECKPOINT_FORMAT!r}, got {found!r})"
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        if "scheduler" not in state:
            raise ValueError(
                f"fit: resume={str(path)!r} holds no scheduler state, but a scheduler was given"
            )
        scheduler.load_state_dict(state["scheduler"])
    default_generator().bit_generator.state = json.loads(str(state["default_rng"]))
    return (
        int(state["epoch"]),
        int(state["step"]),
        int(str(state["seed"])),
        json.loads(str(state["history"])),
    )
