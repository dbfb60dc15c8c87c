"""What the studies share: schemes that may be presets, and their default data."""

from __future__ import annotations

from ... import init as tinit
from ..._checks import closest
from ..build import Dataset, load_dataset

__all__ = ["resolve_scheme", "study_data"]


def resolve_scheme(name: str, bias_init: str = "zeros") -> tuple[str, str]:
    """``(weight spec, bias spec)`` of a scheme: a preset of :data:`tinynet.init.PRESETS` gives both
    (``"pytorch"``: ``("default", "default_bias")``, PyTorch's ``nn.Linear`` weight *and* bias rule;
    ``"keras"``, ``"flax"``); any other name is an init spec for the weights, with ``bias_init``
    (zero biases by default) for the biases, except that a weight strategy declaring a
    ``bias_partner`` (``edge_of_chaos``: ``N(0, σ_b²)``, without which it is not critical) gets that
    instead of zeros. The sweep and every study resolve names here.

    Raises
    ------
    ValueError
        If ``name`` is neither a preset nor a valid init spec (the message lists the valid names,
        the presets and the closest preset), or ``bias_init`` is not a valid spec.
    TypeError
        For a spec that is neither a string nor an initializer (as :func:`tinynet.init.get`).
    """
    if isinstance(name, str) and name in tinit.PRESETS:
        return tinit.PRESETS[name]
    try:
        weight = tinit.get(name)
    except ValueError as error:
        hint = closest(name, tinit.PRESETS) if isinstance(name, str) else None
        text = f"{error}; or a preset: {', '.join(tinit.PRESETS)}"
        raise ValueError(text + (f" (closest preset: {hint!r})" if hint else "")) from None
    tinit.get(bias_init)
    partner = getattr(weight, "bias_partner", None)
    if partner is not None and bias_init == "zeros":  # a scheme defined with its biases
        return name, partner
    return name, bias_init


def study_data(dataset: Dataset | None, limit: int, seed: int = 0) -> Dataset:
    """``dataset``, or the first ``limit`` built-in synthetic digits of each split."""
    return dataset if dataset is not None else load_dataset("synthetic", limit=limit, seed=seed)
