"""init.fixup (Zhang et al. 2019) on residual MLPs, ReZero through nn.Residual(scale=0.0), and the
acceptance figures of a 64-block residual MLP.

Scale tolerances: the sample std of n normal draws of std sigma has standard error
sigma / sqrt(2 n) (kurtosis 3); the tests allow 6 of them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import init, nn
from tinynet.init.model import stream

WIDTH = 64


def block(width: int = WIDTH, depth: int = 2, scale: float | None = None) -> nn.Residual:
    """``Residual(Linear, ReLU, Linear, ...)`` with ``depth`` weight layers in its branch."""
    layers: list[nn.Module] = [nn.Linear(width, width)]
    for _ in range(depth - 1):
        layers += [nn.ReLU(), nn.Linear(width, width)]
    return nn.Residual(nn.Sequential(*layers), scale=scale)


def residual_mlp(n_blocks: int, depth: int = 2, n_in: int = 20, n_out: int = 10) -> nn.Sequential:
    """stem Linear(n_in, w), ReLU, n_blocks residual blocks, classifier Linear(w, n_out)."""
    blocks = [block(depth=depth) for _ in range(n_blocks)]
    return nn.Sequential(nn.Linear(n_in, WIDTH), nn.ReLU(), *blocks, nn.Linear(WIDTH, n_out))


def assert_normal_std(w: np.ndarray, sigma: float) -> None:
    x = np.asarray(w, dtype=np.float64).ravel()
    tolerance = 6 * sigma / math.sqrt(2 * x.size)
    assert abs(x.std(ddof=1) - sigma) <= tolerance, (x.std(ddof=1), sigma, tolerance)
    assert abs(x.mean()) <= 6 * sigma / math.sqrt(x.size)


class UserBlock(nn.Module):
    """A user's own residual block: found by its declaration, not by class."""

    is_residual = True

    def __init__(self, branch: nn.Module) -> None:
        super().__init__()
        self.branch = branch

    def forward(self, x):
        return x + self.branch(x)


# --------------------------------------------------------------------------- what fixup sets
@pytest.mark.parametrize("depth", [2, 3])
def test_fixup_zeroes_the_last_layer_of_each_branch_and_the_classifier_and_scales_the_rest(depth):
    n_blocks = 8
    model = residual_mlp(n_blocks, depth=depth)
    init.apply(model, weight="he_normal", bias="normal(std=0.5)", rng=0)
    stem = (model[0].weight.data.copy(), model[0].bias.data.copy())
    assert init.fixup(model, rng=1) is model
    scale = n_blocks ** (-1 / (2 * depth - 2))
    assert init.fixup_scale(n_blocks, depth) == pytest.approx(scale, rel=1e-15)
    for b in model[2:-1]:
        layers = [m for m in b.branch if isinstance(m, nn.Linear)]
        assert not layers[-1].weight.data.any() and not layers[-1].bias.data.any()
        assert layers[-1].weight_init == init.get("zeros") and layers[-1].bias_init == init.get("zeros")
        for layer in layers[:-1]:
            assert_normal_std(layer.weight.data, math.sqrt(2 / WIDTH) * scale)
            assert not layer.bias.data.any()
            assert layer.weight_init == init.HeNormal(gain=math.sqrt(2) * scale)
    head = model[-1]
    assert not head.weight.data.any() and not head.bias.data.any()
    np.testing.assert_array_equal(model[0].weight.data, stem[0])  # outside every branch: kept
    np.testing.assert_array_equal(model[0].bias.data, stem[1])


def test_fixup_scale_pooled_over_blocks_is_he_times_l_to_the_minus_half():
    # L = 16 blocks of m = 2: variance (2 / fan_in) / L, 16 * 4096 draws pooled
    model = residual_mlp(16)
    init.fixup(model, rng=3)
    first = np.concatenate([b.branch[0].weight.data.ravel() for b in model[2:-1]])
    assert_normal_std(first, math.sqrt(2 / WIDTH) / 4)


def test_fixup_makes_every_block_the_identity_and_the_output_zero():
    tn.set_default_dtype(np.float64)
    model = residual_mlp(6)
    init.fixup(model, rng=0)
    x = np.random.default_rng(0).standard_normal((32, 20))
    with tn.no_grad():
        h = model[1](model[0](tn.tensor(x)))
        stack = h
        for b in model[2:-1]:
            stack = b(stack)
        out = model(tn.tensor(x))
    np.testing.assert_array_equal(stack.data, h.data)
    assert not out.data.any()


def test_fixup_draws_each_parameter_from_its_own_named_stream():
    a, b = residual_mlp(4), residual_mlp(4)
    init.fixup(a, rng=5)
    init.fixup(b, rng=5)
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        if not name.startswith("0."):  # the stem is not drawn by fixup
            np.testing.assert_array_equal(pa.data, pb.data)
    # the numbers of one weight depend only on the seed, its dotted name and its scheme
    he = init.HeNormal(gain=math.sqrt(2) * 4**-0.5)
    expected = he((WIDTH, WIDTH), fan_in=WIDTH, fan_out=WIDTH, rng=stream(5, "3.branch.0.weight"))
    np.testing.assert_array_equal(a[3].branch[0].weight.data, expected)
    init.fixup(b, rng=6)
    assert not np.array_equal(a[3].branch[0].weight.data, b[3].branch[0].weight.data)
    assert not np.array_equal(a[2].branch[0].weight.data, a[3].branch[0].weight.data)


def test_fixup_finds_residual_blocks_by_declaration_and_handles_one_layer_branches():
    """m = 1: the branch's only layer is zeroed, there is nothing to scale."""
    model = nn.Sequential(
        UserBlock(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))),
        UserBlock(nn.Linear(8, 8)),
        nn.Tanh(),
    )
    init.fixup(model, rng=0)
    assert [name for name, _ in init.residual_blocks(model)] == ["0", "1"]
    assert_normal_std(model[0].branch[0].weight.data, math.sqrt(2 / 8) * 2**-0.5)  # L = 2, m = 2
    assert model[0].branch[0].weight_init == init.HeNormal(gain=math.sqrt(2) * 2**-0.5)
    assert not model[0].branch[2].weight.data.any()
    assert not model[1].branch.weight.data.any()  # the only layer (and the model's final one)


def test_fixup_on_a_residual_cnn_uses_each_convs_declared_fans():
    def conv_block() -> nn.Residual:
        return nn.Residual(
            nn.Sequential(nn.Conv2d(8, 8, 3, padding="same"), nn.ReLU(), nn.Conv2d(8, 8, 3, padding="same"))
        )

    model = nn.Sequential(*[conv_block() for _ in range(4)], nn.GlobalAvgPool2d(), nn.Linear(8, 3))
    init.fixup(model, rng=0)
    first = np.concatenate([model[i].branch[0].weight.data.ravel() for i in range(4)])
    assert_normal_std(first, math.sqrt(2 / (3 * 3 * 8)) * 4**-0.5)  # fan_in = kh * kw * in = 72
    assert all(not model[i].branch[2].weight.data.any() for i in range(4))
    assert not model[-1].weight.data.any()


def test_fixup_refuses_models_without_residual_blocks_or_with_empty_branches():
    with pytest.raises(ValueError, match=r"init.fixup: found no residual block in Sequential.*is_residual"):
        init.fixup(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)))
    with pytest.raises(ValueError, match=r"branch of residual block '1' has no weight layer"):
        init.fixup(nn.Sequential(nn.Linear(4, 4), nn.Residual(nn.ReLU())))
    with pytest.raises(TypeError, match="modules"):
        init.fixup(object())
    with pytest.raises(ValueError, match="m >= 2"):
        init.fixup_scale(4, 1)


# --------------------------------------------------------------------------- acceptance: 64 blocks
def stack_output_std(model: nn.Sequential, x: np.ndarray) -> float:
    """Std of the output of the residual stack: every module but the final classifier."""
    with tn.no_grad():
        h = tn.tensor(x)
        for module in list(model)[:-1]:
            h = module(h)
    return float(np.std(h.data))


def deep_residual_mlp(scale: float | None = None) -> nn.Sequential:
    """64 blocks Residual(Sequential(Linear(w, w), ReLU(), Linear(w, w))) and a classifier."""
    return nn.Sequential(*[block(scale=scale) for _ in range(64)], nn.Linear(WIDTH, 10))


def test_64_block_residual_mlp_explodes_under_he_and_stays_at_unit_std_with_fixup_or_rezero():
    """He on every layer: each block maps variance v to v + 2v, so 3**64 in variance (std ~1e15).
    Fixup and ReZero start every block as the identity: the stack's output is its input."""
    tn.set_default_dtype(np.float64)
    x = np.random.default_rng(0).standard_normal((256, WIDTH))  # 16384 elements of std 1

    model = deep_residual_mlp()
    init.apply(model, weight="he_normal", bias="zeros", rng=0)
    he_std = stack_output_std(model, x)
    assert he_std > 1e10, he_std

    init.fixup(model, rng=0)
    fixup_std = stack_output_std(model, x)
    assert 0.9 <= fixup_std <= 1.1, fixup_std
    with tn.no_grad():
        assert not model(tn.tensor(x)).data.any()  # the classifier is zero too

    rezero = deep_residual_mlp(scale=0.0)
    init.apply(rezero, weight="he_normal", bias="zeros", rng=0)
    rezero_std = stack_output_std(rezero, x)
    assert 0.9 <= rezero_std <= 1.1, rezero_std
    assert all(float(b.scale.data) == 0.0 for b in rezero[:-1])
