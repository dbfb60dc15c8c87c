"""init.parametrize: the weights' variances against each table (6 standard errors from the sample
size), the learning-rate multipliers against the written table, SP at width == base_width, a
user's own table, the groups driving an optimizer, and errors."""

import math

import numpy as np
import pytest

from tinynet import init, nn, optim

D_IN, D_OUT = 784, 10


def mlp(width, depth=2, bias=True):
    layers = [nn.Linear(D_IN, width, bias=bias), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width, bias=bias), nn.ReLU()]
    layers.append(nn.Linear(width, D_OUT, bias=bias))
    return nn.Sequential(*layers)


def expected(name, optimizer, role, fan_in, fan_out, base):
    """(variance, lr_mult) written out from the tables (Tensor Programs V, Table 3, and the NTK
    parametrization without multipliers), independently of the library's exponent form."""
    if name == "mup" and role == "output":
        variance = (1 / fan_in) * (base / fan_in)
    else:
        variance = 1 / fan_in
    if name == "sp":
        return variance, 1.0
    if name == "mup":
        if optimizer == "adam":
            mult = {"input": 1.0, "bias": 1.0}.get(role, base / fan_in)
        else:
            mult = {"input": fan_out / base, "bias": fan_out / base, "hidden": 1.0}.get(role, base / fan_in)
        return variance, mult
    # ntk
    if role in ("input", "bias"):
        return variance, 1.0
    return variance, (base / fan_in) if optimizer == "sgd" else math.sqrt(base / fan_in)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", ["sp", "ntk", "mup"])
def test_variances_and_multipliers_follow_the_table(name, optimizer):
    width, base = 512, 64
    model = mlp(width)
    groups = init.parametrize(model, name, base, optimizer=optimizer, rng=3)
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [g["role"] for g in groups] == ["input", "bias", "hidden", "bias", "output", "bias"]
    for i, layer in enumerate(layers):
        fan_in, fan_out = layer.fans()
        role = "input" if i == 0 else "output" if i == len(layers) - 1 else "hidden"
        variance, mult = expected(name, optimizer, role, fan_in, fan_out, base)
        w = layer.weight.data.astype(np.float64)
        n = w.size
        # mean of w² estimates the variance of a zero-mean normal; its standard error is var·√(2/n)
        assert abs(np.mean(w**2) - variance) <= 6 * variance * math.sqrt(2 / n), (name, role)
        assert abs(np.mean(w)) <= 6 * math.sqrt(variance / n)
        weight_group, bias_group = groups[2 * i], groups[2 * i + 1]
        assert weight_group["params"] == [layer.weight]
        assert weight_group["lr_mult"] == pytest.approx(mult, rel=1e-12), (name, role)
        bias_mult = 1.0 if role == "output" else expected(name, optimizer, "bias", 1, fan_out, base)[1]
        assert bias_group["params"] == [layer.bias]
        assert bias_group["lr_mult"] == pytest.approx(bias_mult, rel=1e-12)
        # every bias: variance 1/fan_in of its layer (DESIGN's table), in every parametrization
        b = layer.bias.data.astype(np.float64)
        assert abs(np.mean(b**2) - 1 / fan_in) <= 6 * (1 / fan_in) * math.sqrt(2 / b.size), (name, role)


def test_mup_differs_from_sp_away_from_the_base():
    a, b = mlp(256), mlp(256)
    init.parametrize(a, "sp", 64, rng=0)
    groups = init.parametrize(b, "mup", 64, "adam", rng=0)
    np.testing.assert_array_equal(a[2].weight.data, b[2].weight.data)  # hidden: same rule
    np.testing.assert_allclose(b[4].weight.data, a[4].weight.data * 0.5, rtol=1e-6)  # √(64/256)
    assert {g["lr_mult"] for g in groups if g["role"] == "hidden"} == {0.25}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_at_base_width_every_table_is_sp(optimizer):
    models = {name: mlp(128) for name in ("sp", "ntk", "mup")}
    groups = {name: init.parametrize(model, name, 128, optimizer, rng=11) for name, model in models.items()}
    for name in ("ntk", "mup"):
        assert all(g["lr_mult"] == 1.0 for g in groups[name])
        for (_, p), (_, q) in zip(
            models["sp"].named_parameters(), models[name].named_parameters(), strict=True
        ):
            np.testing.assert_array_equal(p.data, q.data)
    other = mlp(128)
    init.parametrize(other, "sp", 128, rng=12)
    assert not np.array_equal(other[0].weight.data, models["sp"][0].weight.data)


def test_groups_drive_an_optimizer_at_lr_times_multiplier():
    model = mlp(256, bias=False)
    groups = init.parametrize(model, "mup", 64, "sgd", rng=0)
    opt = optim.SGD(groups, lr=0.1)
    rng = np.random.default_rng(0)
    before = [p.data.copy() for p in model.parameters()]
    grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in model.parameters()]
    for p, g in zip(model.parameters(), grads, strict=True):
        p.grad = g
    opt.step()
    mults = [256 / 64, 1.0, 64 / 256]  # input fan_out/base, hidden 1, output base/fan_in
    for p, b, g, m in zip(model.parameters(), before, grads, mults, strict=True):
        np.testing.assert_allclose(p.data, b - 0.1 * m * g, rtol=1e-5, atol=1e-7)


def test_a_users_table_is_used():
    table = {
        "input": init.Rule(),
        "hidden": init.Rule(variance=1.0, sgd=2.0, adam=0.5),
        "output": init.Rule(),
        "bias": init.Rule(adam=-1.0),
    }
    init.register_parametrization("half_hidden", table)
    assert "half_hidden" in init.parametrization_names()
    model = mlp(256, depth=3)
    groups = init.parametrize(model, "half_hidden", 64, "adam", rng=0)
    hidden = [g for g in groups if g["role"] == "hidden"]
    assert len(hidden) == 2 and all(g["lr_mult"] == 0.5 for g in hidden)
    biases = [g["lr_mult"] for g in groups if g["role"] == "bias"]
    assert biases == [4.0, 4.0, 4.0, 1.0]  # (64/256)^-1 for input/hidden biases, 1 for the output's
    w = model[2].weight.data.astype(np.float64)
    variance = 0.25 / 256
    assert abs(np.mean(w**2) - variance) <= 6 * variance * math.sqrt(2 / w.size)
    assert init.parametrization("half_hidden")["hidden"] == table["hidden"]


def test_errors():
    model = mlp(32)
    with pytest.raises(ValueError, match=r"unknown parametrization 'mpu'.*sp, ntk, mup.*'mup'"):
        init.parametrize(model, "mpu", 32)
    with pytest.raises(ValueError, match="base_width must be an int >= 1, got 0"):
        init.parametrize(model, "mup", 0)
    with pytest.raises(TypeError, match="base_width must be an int"):
        init.parametrize(model, "mup", 32.0)
    with pytest.raises(TypeError, match="base_width must be an int"):
        init.parametrize(model, "mup", True)
    with pytest.raises(ValueError, match="optimizer must be one of 'sgd', 'adam', got 'adamw'"):
        init.parametrize(model, "mup", 32, optimizer="adamw")
    with pytest.raises(ValueError, match=r"at least 2 weight layers .* found 1 in Sequential"):
        init.parametrize(nn.Sequential(nn.Linear(3, 4)), "sp", 4)
    with pytest.raises(TypeError, match="modules"):
        init.parametrize(object(), "sp", 4)
    with pytest.raises(ValueError, match="exactly the roles input, hidden, output, bias"):
        init.register_parametrization("bad", {"input": init.Rule()})
    with pytest.raises(TypeError, match=r"table\['hidden'\] must be a Rule"):
        init.register_parametrization(
            "bad", {"input": init.Rule(), "hidden": 1.0, "output": init.Rule(), "bias": init.Rule()}
        )
    with pytest.raises(ValueError, match=r"table\['bias'\].sgd must be a finite number"):
        init.register_parametrization(
            "bad", {**{r: init.Rule() for r in init.parametrization("sp")}, "bias": init.Rule(sgd=math.inf)}
        )
    assert "bad" not in init.parametrization_names()
