"""Loss modules: values against numpy references, reductions, gradchecks, bad input."""

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 4)) * 2
CLASSES = np.array([0, 3, 1, 1, 2, 0])
PRED = RNG.standard_normal((3, 5))
TARGET = RNG.standard_normal((3, 5))
PROBS = RNG.uniform(size=(3, 5))


def reduce(values, reduction):
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


def cross_entropy_ref(logits, t):
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return -log_probs[np.arange(len(t)), t]


CASES = [
    (nn.CrossEntropyLoss, LOGITS, CLASSES, cross_entropy_ref),
    (nn.MSELoss, PRED, TARGET, lambda x, y: (x - y) ** 2),
    (
        nn.BCEWithLogitsLoss,
        PRED,
        PROBS,
        lambda x, y: (
            -(y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-x))))
        ),
    ),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("cls", "x", "y", "ref"), CASES)
def test_loss_values(cls, x, y, ref, reduction):
    tn.set_default_dtype(np.float64)
    loss = cls(reduction=reduction)
    out = loss(tn.tensor(x), y)
    np.testing.assert_allclose(out.data, reduce(ref(x, y), reduction), rtol=1e-12)
    assert loss(tn.tensor(x), tn.tensor(y)).data == pytest.approx(out.data)  # Tensor targets too


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("cls", "x", "y", "ref"), CASES)
def test_loss_gradcheck(cls, x, y, ref, reduction):
    tn.set_default_dtype(np.float64)
    loss = cls(reduction=reduction)
    assert tn.gradcheck(lambda inp: loss(inp, y), tn.tensor(x, requires_grad=True))


def test_loss_bad_input():
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="target value 7"):
        nn.CrossEntropyLoss()(tn.tensor(LOGITS), np.array([0, 1, 2, 3, 7, 0]))
    with pytest.raises(TypeError, match="integer class indices"):
        nn.CrossEntropyLoss()(tn.tensor(LOGITS), CLASSES.astype(float))
    with pytest.raises(ValueError, match="shape"):
        nn.MSELoss()(tn.tensor(PRED), TARGET[:, :2])
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
