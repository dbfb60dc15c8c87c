"""The seeded default random stream, and coercion of ``rng`` arguments.

Every random function in tinynet takes ``rng``: a :class:`numpy.random.Generator`, an ``int`` seed, or
``None`` for the default Generator that :func:`manual_seed` resets.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_int, is_int

_default: np.random.Generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the default Generator to ``numpy.random.default_rng(seed)`` and return it.

    Raises
    ------
    TypeError
        If ``seed`` is not an integer.
    ValueError
        If ``seed`` is negative (numpy's generators take seeds >= 0).
    """
    global _default
    _default = np.random.default_rng(check_int("manual_seed", "seed", seed, minimum=0))
    return _default


def default_generator() -> np.random.Generator:
    """Return the default Generator (the one :func:`manual_seed` seeds)."""
    return _default


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Coerce ``rng`` to a Generator.

    ``None`` gives the default Generator, an ``int`` a new ``default_rng(int)``, a Generator itself.

    Raises
    ------
    TypeError
        For any other type.
    ValueError
        For a negative int seed.
    """
    if rng is None:
        return _default
    if isinstance(rng, np.random.Generator):
        return rng
    if is_int(rng):
        return np.random.default_rng(check_int("rng", "seed", rng, minimum=0))
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
