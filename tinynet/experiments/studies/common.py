"""What the studies share: schemes that may be presets, and their default data."""

from __future__ import annotations

from ... import init as tinit
from ..build import Dataset, load_dataset

__all__ = ["resolve_scheme", "study_data"]


def resolve_scheme(name: str) -> tuple[str, str]:
    """``(weight spec, bias spec)`` of a scheme: a preset of :data:`tinynet.init.PRESETS`
    (``"pytorch"``, ``"keras"``, ``"flax"``) or any init spec with zero biases.

    Raises
    ------
    ValueError
        If ``name`` is neither a preset nor a valid init spec (the message lists the valid names).
    """
    if name in tinit.PRESETS:
        return tinit.PRESETS[name]
    tinit.get(name)
    return name, "zeros"


def study_data(dataset: Dataset | None, limit: int, seed: int = 0) -> Dataset:
    """``dataset``, or the first ``limit`` built-in synthetic digits of each split."""
    return dataset if dataset is not None else load_dataset("synthetic", limit=limit, seed=seed)
