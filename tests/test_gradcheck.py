"""tn.gradcheck itself: it passes correct ops, catches wrong ones, samples large inputs with a seed,
runs in float64, restores the default dtype, and passes non-tensor inputs through."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.function import Function


class _OffByOneElement(Function):
    """z = 2a, but backward is wrong at flat element ``bad`` only."""

    bad = 0

    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return 2 * a

    @staticmethod
    def backward(ctx, grad):
        g = 2 * grad
        g.reshape(-1)[_OffByOneElement.bad] += 1.0
        return g


def test_passes_for_correct_ops() -> None:
    x = tn.tensor(np.linspace(0.5, 2.0, 6).reshape(2, 3), requires_grad=True)
    w = tn.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)
    assert tn.gradcheck(lambda a, b: (a @ b).tanh().sum(axis=0) * a.log().mean(), x, w) is True
    assert tn.gradcheck(lambda a: F.softmax(a, axis=0), x) is True
    assert tn.gradcheck(lambda a: (a * 3).sum(), x) is True  # scalar output


def test_fails_for_a_wrong_op() -> None:
    x = tn.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    _OffByOneElement.bad = 4
    with pytest.raises(tn.GradcheckError, match=r"index \(1, 1\).*analytic .*numeric .*difference"):
        tn.gradcheck(_OffByOneElement.apply, x)


def test_fails_for_a_non_finite_gradient() -> None:
    x = tn.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with np.errstate(all="ignore"), pytest.raises(tn.GradcheckError, match="index \\(0,\\)"):
        tn.gradcheck(lambda a: (a * a).sqrt(), x)  # backward is 0 * inf at 0


def test_checks_every_element_of_small_inputs() -> None:
    x = tn.tensor(np.ones((4, 5)), requires_grad=True)
    for bad in (0, 7, 19):
        _OffByOneElement.bad = bad
        where = tuple(int(i) for i in np.unravel_index(bad, (4, 5)))
        with pytest.raises(tn.GradcheckError, match=re.escape(f"index {where}:")):
            tn.gradcheck(_OffByOneElement.apply, x)


def _perturbed_elements(max_elements: int, seed: int, size: int) -> set[int]:
    """Flat indices that gradcheck perturbs, read off the inputs fn sees."""
    base = np.zeros(size)
    seen: set[int] = set()
    calls = []

    def fn(t: tn.Tensor) -> tn.Tensor:
        calls.append(1)
        seen.update(np.flatnonzero(t.data != base).tolist())
        return t * 2

    tn.gradcheck(fn, tn.tensor(base, requires_grad=True), max_elements=max_elements, seed=seed)
    checked = min(size, max_elements)
    assert len(calls) == 1 + 2 * checked  # one forward for backward, two per checked element
    return seen


def test_large_inputs_use_a_seeded_subset() -> None:
    subset = _perturbed_elements(max_elements=10, seed=0, size=100)
    assert len(subset) == 10
    assert subset == _perturbed_elements(
        max_elements=10, seed=0, size=100
    )  # same seed, same subset
    assert subset != _perturbed_elements(max_elements=10, seed=1, size=100)
    assert _perturbed_elements(max_elements=200, seed=0, size=100) == set(range(100))


def test_subset_can_miss_an_error_only_outside_the_sample() -> None:
    x = tn.tensor(np.zeros(50), requires_grad=True)
    sampled = _perturbed_elements(max_elements=5, seed=3, size=50)
    _OffByOneElement.bad = min(set(range(50)) - sampled)
    assert tn.gradcheck(_OffByOneElement.apply, x, max_elements=5, seed=3)
    _OffByOneElement.bad = min(sampled)
    with pytest.raises(tn.GradcheckError, match="of 5 checked elements fail"):
        tn.gradcheck(_OffByOneElement.apply, x, max_elements=5, seed=3)


@pytest.mark.parametrize("default", [np.float32, np.float64])
def test_runs_in_float64_and_restores_the_default_dtype(default: type) -> None:
    tn.set_default_dtype(default)
    seen = []

    def fn(t: tn.Tensor) -> tn.Tensor:
        seen.append((t.dtype, tn.get_default_dtype(), (t + 1.0).dtype))
        return t * t

    x = tn.tensor(np.array([0.1, 0.2], dtype=np.float32), requires_grad=True)
    assert tn.gradcheck(fn, x)
    assert all(s == (np.float64, np.float64, np.float64) for s in seen)
    assert tn.get_default_dtype() == default
    assert x.dtype == np.float32 and x.grad is None  # the caller's tensor is untouched
    _OffByOneElement.bad = 0
    with pytest.raises(tn.GradcheckError):
        tn.gradcheck(_OffByOneElement.apply, x)
    assert tn.get_default_dtype() == default  # restored after a failure too


def test_float32_precision_would_not_pass_where_float64_does() -> None:
    """Why gradcheck runs in float64: eps = 1e-6 is below float32 resolution near 1."""
    x32 = np.float32(1.0)
    assert (x32 + np.float32(1e-6)) - (x32 - np.float32(1e-6)) != np.float32(2e-6)
    x = tn.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    assert tn.gradcheck(lambda t: t.exp(), x)


def test_passes_non_tensor_inputs_through() -> None:
    logits = tn.tensor(np.array([[0.1, 2.0, -1.0], [0.5, 0.5, 0.0]]), requires_grad=True)
    target = np.array([1, 0])
    received = []

    def fn(
        x: tn.Tensor, t: np.ndarray, reduction: str, scale: float, t_tensor: tn.Tensor
    ) -> tn.Tensor:
        received.append((t, reduction, scale, t_tensor))
        return F.cross_entropy(x, t, reduction=reduction) * scale + F.nll_loss(x, t_tensor)

    target_tensor = tn.tensor(np.array([2, 2]))
    assert tn.gradcheck(fn, logits, target, "sum", 2.0, target_tensor)
    assert all(r[0] is target and r[1] == "sum" and r[2] == 2.0 for r in received)
    assert all(r[3] is target_tensor for r in received)  # integer tensors pass through unchanged


def test_only_inputs_requiring_grad_are_checked() -> None:
    a = tn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = tn.tensor(np.array([3.0, 4.0]))
    calls = []

    def fn(x: tn.Tensor, y: tn.Tensor) -> tn.Tensor:
        calls.append(1)
        assert y.dtype == np.float64 and not y.requires_grad
        return x * y

    assert tn.gradcheck(fn, a, b)
    assert len(calls) == 1 + 2 * 2
