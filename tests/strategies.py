"""Hypothesis strategies for the engine tests: shapes, broadcastable pairs, axes, arrays, indices.

Shapes stay small (at most 4 dimensions of at most 5) so that a finite-difference check of every
element stays fast. Values are bounded float64; ``domain`` transforms shift raw values into the
region where an op is smooth (``positive`` for log/sqrt, ``away_from_zero`` for the kinks of
abs/relu and for divisors).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_DIMS = 4
MAX_SIDE = 5
LOW, HIGH = -3.0, 3.0

Shape = tuple[int, ...]
Domain = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------- shapes
def shapes(
    min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE
):
    """Array shapes with ``min_dims..max_dims`` dimensions of ``min_side..max_side`` each."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


@st.composite
def broadcastable_pairs(draw, min_dims: int = 0, max_dims: int = MAX_DIMS) -> tuple[Shape, Shape]:
    """Two shapes that broadcast together: each is the full shape with some leading dimensions
    dropped and some dimensions set to 1 (so both size-1 stretching and missing leading dims
    occur)."""
    full = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    pair = []
    for _ in range(2):
        dropped = draw(st.integers(0, len(full) - min_dims))
        kept = list(full[dropped:])
        ones = draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
        pair.append(tuple(1 if one else n for n, one in zip(kept, ones, strict=True)))
    return pair[0], pair[1]


@st.composite
def axes_for(draw, shape: Shape) -> int | tuple[int, ...] | None:
    """A reduction ``axis`` for ``shape``: None, one int (maybe negative), or a tuple of distinct
    axes."""
    ndim = len(shape)
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])
    )
    return draw(st.one_of(st.none(), single, several))


@st.composite
def axis_and_keepdims(draw, shape: Shape) -> tuple[int | tuple[int, ...] | None, bool]:
    """A reduction axis for ``shape`` together with a ``keepdims`` flag."""
    return draw(axes_for(shape)), draw(st.booleans())


@st.composite
def reshape_targets(draw, shape: Shape) -> tuple[int, ...]:
    """A shape with the same number of elements as ``shape``, possibly with one -1 entry."""
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    d = draw(st.sampled_from(divisors))
    e = draw(st.sampled_from([k for k in divisors if (size // d) % k == 0]))
    candidates = [
        (),
        (size,),
        (-1,),
        (d, size // d),
        (d, -1),
        (size // d, 1, d),
        (e, d, size // (d * e)),
        (1, -1, e),
    ]
    return draw(st.sampled_from([c for c in candidates if c != () or size == 1]))


# ---------------------------------------------------------------- values
def float_arrays(shape: Shape, low: float = LOW, high: float = HIGH, domain: Domain | None = None):
    """float64 arrays of ``shape`` with values in [low, high], mapped through ``domain``."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    arrays = hnp.arrays(np.float64, shape, elements=elements)
    return arrays if domain is None else arrays.map(domain)


def real(x: np.ndarray) -> np.ndarray:
    """Every value is in the domain."""
    return x


def positive(x: np.ndarray) -> np.ndarray:
    """Shift into [0.5, ∞): log, sqrt, fractional powers, positive bases."""
    return np.abs(x) + 0.5


def away_from_zero(x: np.ndarray) -> np.ndarray:
    """Push every value at least 0.5 from 0: kinks of abs/relu family, divisors."""
    return np.where(x >= 0, x + 0.5, x - 0.5)


@st.composite
def distinct_arrays(draw, shape: Shape) -> np.ndarray:
    """float64 arrays whose values are pairwise at least 0.25 apart (no ties for max/min, whose
    gradient at a tie is not a derivative that finite differences could check)."""
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    return (np.asarray(order, dtype=np.float64) * 0.25 - 0.125 * size).reshape(shape)


@st.composite
def class_targets(draw, n: int, classes: int) -> np.ndarray:
    """Integer class indices of shape (n,) in [0, classes)."""
    values = draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n))
    return np.asarray(values, dtype=np.int64)


# ---------------------------------------------------------------- indices
@st.composite
def _dim_item(draw, size: int, allow_array: bool):
    kinds = ["int", "slice", "full"] + (["array"] if allow_array else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return draw(st.integers(-size, size - 1))
    if kind == "full":
        return slice(None)
    if kind == "array":
        values = draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4))
        return np.asarray(values, dtype=np.int64)
    bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
    step = draw(st.sampled_from([None, 1, 2, -1, -2, 3]))
    return slice(draw(bound), draw(bound), step)


@st.composite
def indices(draw, shape: Shape, allow_arrays: bool = True) -> tuple:
    """An index for an array of ``shape``: ints (maybe negative), slices (negative steps too), None,
    at most one Ellipsis (with indexed dims before and after it), and at most one integer array
    (whose values may repeat)."""
    ndim = len(shape)
    lead = draw(st.integers(0, ndim))
    ellipsis = draw(st.booleans())
    trail = draw(st.integers(0, ndim - lead)) if ellipsis else 0
    dims = list(shape[:lead]) + [None] * ellipsis + list(shape[ndim - trail :])
    items: list = []
    array_used = False
    for size in dims:
        if size is None:
            items.append(Ellipsis)
            continue
        item = draw(_dim_item(size, allow_array=allow_arrays and not array_used))
        array_used = array_used or isinstance(item, np.ndarray)
        items.append(item)
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


@st.composite
def boolean_masks(draw, shape: Shape):
    """A boolean index for ``shape``: a full-shape mask, a mask on the first axis, or a mask on the
    second axis after a slice."""
    kind = draw(st.sampled_from(["full", "first"] + (["second"] if len(shape) >= 2 else [])))
    if kind == "full":
        return draw(hnp.arrays(np.bool_, shape))
    if kind == "first":
        return draw(hnp.arrays(np.bool_, shape[:1]))
    return (slice(None), draw(hnp.arrays(np.bool_, shape[1:2])))


# ---------------------------------------------------------------- matmul operands
MATMUL_KINDS = ("2d", "1d@2d", "2d@1d", "1d@1d", "batched", "batched@1d", "1d@batched")


@st.composite
def matmul_shapes(draw, kind: str) -> tuple[Shape, Shape]:
    """Operand shapes for ``a @ b`` of the given kind; batch dims of "batched" broadcast."""
    side = st.integers(1, MAX_SIDE)
    n, k, m = draw(side), draw(side), draw(side)
    if kind == "2d":
        return (n, k), (k, m)
    if kind == "1d@2d":
        return (k,), (k, m)
    if kind == "2d@1d":
        return (n, k), (k,)
    if kind == "1d@1d":
        return (k,), (k,)
    batch_a, batch_b = draw(broadcastable_pairs(min_dims=1, max_dims=2))
    if kind == "batched":
        return (*batch_a, n, k), (*batch_b, k, m)
    if kind == "batched@1d":
        return (*batch_a, n, k), (k,)
    return (k,), (*batch_b, k, m)
