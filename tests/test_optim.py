"""Optimizers: 10 steps on a fixed float64 problem equal the written update rule, computed here
independently; parameter groups, skipped parameters, state dicts and bad input."""

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, optim

STEPS = 10
RNG = np.random.default_rng(42)
X = RNG.standard_normal((16, 3))
Y = RNG.standard_normal((16, 2))
W0 = RNG.standard_normal((3, 2))
B0 = RNG.standard_normal(2)


def gradients(w, b, step):
    """Gradient of a least-squares loss whose target moves with the step, so gradients change sign
    and size over the run (which makes AMSGrad's maximum and the centered average matter)."""
    residual = X @ w + b - Y * (1 + 0.5 * math.sin(step))
    return X.T @ residual / len(X), residual.mean(0)


def run(make_optimizer, steps=STEPS):
    """Drive a tinynet optimizer with gradients set by hand (the engine is not under test here)."""
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    opt = make_optimizer([w, b])
    for t in range(1, steps + 1):
        w.grad, b.grad = gradients(w.data, b.data, t)
        opt.step()
    return w.data, b.data


def reference(update, steps=STEPS):
    """The written rule: update(theta, g, state, t) -> new theta, applied to each parameter."""
    params = [W0.copy(), B0.copy()]
    states = [{}, {}]
    for t in range(1, steps + 1):
        grads = gradients(params[0], params[1], t)
        params = [update(p, g, s, t) for p, g, s in zip(params, grads, states, strict=True)]
    return params


def sgd_rule(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        if momentum != 0:
            state["b"] = g if t == 1 else momentum * state["b"] + (1 - dampening) * g
            g = g + momentum * state["b"] if nesterov else state["b"]
        return theta - lr * g

    return update


def adam_rule(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    beta1, beta2 = betas

    def update(theta, g, state, t):
        if decoupled:
            theta = theta - lr * weight_decay * theta
        else:
            g = g + weight_decay * theta
        state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
        m_hat = state["m"] / (1 - beta1**t)
        if amsgrad:
            state["v_max"] = np.maximum(state.get("v_max", 0.0), state["v"])
            v_hat = state["v_max"] / (1 - beta2**t)
        else:
            v_hat = state["v"] / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)

    return update


def rmsprop_rule(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g**2
        v = state["v"]
        if centered:
            state["g_avg"] = alpha * state.get("g_avg", 0.0) + (1 - alpha) * g
            v = v - state["g_avg"] ** 2
        if momentum > 0:
            state["b"] = momentum * state.get("b", 0.0) + g / (np.sqrt(v) + eps)
            return theta - lr * state["b"]
        return theta - lr * g / (np.sqrt(v) + eps)

    return update


def adagrad_rule(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    def update(theta, g, state, t):
        rate = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * theta
        state["s"] = state.get("s", initial_accumulator_value) + g**2
        return theta - rate * g / (np.sqrt(state["s"]) + eps)

    return update


CASES = {
    "sgd": (optim.SGD, dict(lr=0.1), sgd_rule),
    "sgd-momentum": (optim.SGD, dict(lr=0.1, momentum=0.9), sgd_rule),
    "sgd-dampening": (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3), sgd_rule),
    "sgd-nesterov": (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), sgd_rule),
    "sgd-weight-decay": (optim.SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.05), sgd_rule),
    "adam": (optim.Adam, dict(lr=0.05), adam_rule),
    "adam-weight-decay": (optim.Adam, dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1), adam_rule),
    "adam-amsgrad": (optim.Adam, dict(lr=0.05, betas=(0.5, 0.6), amsgrad=True), adam_rule),
    "adamw": (
        optim.AdamW,
        dict(lr=0.05),
        lambda **k: adam_rule(weight_decay=1e-2, decoupled=True, **k),
    ),
    "adamw-amsgrad": (
        optim.AdamW,
        dict(lr=0.05, betas=(0.5, 0.6), weight_decay=0.2, amsgrad=True),
        lambda **k: adam_rule(decoupled=True, **k),
    ),
    "rmsprop": (optim.RMSprop, dict(lr=0.01), rmsprop_rule),
    "rmsprop-centered": (optim.RMSprop, dict(lr=0.01, alpha=0.7, centered=True), rmsprop_rule),
    "rmsprop-momentum": (
        optim.RMSprop,
        dict(lr=0.01, momentum=0.9, weight_decay=0.1),
        rmsprop_rule,
    ),
    "rmsprop-centered-momentum": (
        optim.RMSprop,
        dict(lr=0.01, alpha=0.7, momentum=0.5, centered=True),
        rmsprop_rule,
    ),
    "adagrad": (optim.Adagrad, dict(lr=0.1), adagrad_rule),
    "adagrad-options": (
        optim.Adagrad,
        dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2),
        adagrad_rule,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_ten_steps_equal_written_rule(name):
    cls, options, rule = CASES[name]
    got = run(lambda params: cls(params, **options))
    want = reference(rule(**options))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    assert not np.allclose(got[0], W0)  # the parameters moved


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("sgd-momentum", "sgd"),
        ("sgd-nesterov", "sgd-momentum"),
        ("sgd-dampening", "sgd-momentum"),
        ("adam-amsgrad", None),
        ("rmsprop-centered", None),
        ("adamw", "adam"),
    ],
)
def test_variants_are_exercised(variant, plain):
    """Each variant changes the result on this problem, so the equality tests above cover it."""
    cls, options, _ = CASES[variant]
    if plain is None:
        base = {k: v for k, v in options.items() if k not in ("amsgrad", "centered")}
        other = run(lambda params: cls(params, **base))
    else:
        other_cls, other_options, _ = CASES[plain]
        other = run(lambda params: other_cls(params, **other_options))
    got = run(lambda params: cls(params, **options))
    assert np.max(np.abs(got[0] - other[0])) > 1e-6


def test_updates_are_in_place_and_keep_dtype():
    tn.set_default_dtype(np.float32)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad):
        p = nn.Parameter(np.ones(3, dtype=np.float32))
        array = p.data
        opt = cls([p], lr=0.1)
        p.grad = np.array([1.0, -2.0, 0.5], dtype=np.float32)
        opt.step()
        assert p.data is array and p.dtype == np.float32, cls.__name__
        assert np.all(p.data != 1.0), cls.__name__
        assert all(
            v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray)
        )


def test_parameters_without_grad_are_skipped():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2)
    opt.step()
    assert np.all(b.data == 1.0) and b not in opt.state and a in opt.state
    assert np.all(a.data < 1.0)


def test_param_groups_have_their_own_options():
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    opt = optim.SGD(
        [{"params": [w]}, {"params": [b], "weight_decay": 0.0, "lr": 0.01}],
        lr=0.1,
        momentum=0.9,
        weight_decay=0.5,
    )
    assert [g["weight_decay"] for g in opt.param_groups] == [0.5, 0.0]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[0]["params"] == [w]
    w_rule = sgd_rule(lr=0.1, momentum=0.9, weight_decay=0.5)
    b_rule = sgd_rule(lr=0.01, momentum=0.9, weight_decay=0.0)
    ref, states = [W0.copy(), B0.copy()], [{}, {}]
    for t in range(1, STEPS + 1):
        w.grad, b.grad = gradients(w.data, b.data, t)
        opt.step()
        gw, gb = gradients(ref[0], ref[1], t)
        ref = [w_rule(ref[0], gw, states[0], t), b_rule(ref[1], gb, states[1], t)]
    np.testing.assert_allclose(w.data, ref[0], rtol=1e-12)
    np.testing.assert_allclose(b.data, ref[1], rtol=1e-12)


def test_zero_grad_and_closure():
    p = nn.Parameter(np.array([2.0]))
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0 and p.data[0] == pytest.approx(0.0)
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize(
    "name", ["sgd-momentum", "adam-amsgrad", "rmsprop-centered-momentum", "adagrad"]
)
def test_state_dict_resume_matches_uninterrupted(name):
    cls, options, _ = CASES[name]
    full = run(lambda params: cls(params, **options))
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    opt = cls([w, b], **options)
    for t in range(1, 6):
        w.grad, b.grad = gradients(w.data, b.data, t)
        opt.step()
    state = opt.state_dict()
    assert sorted(state["state"]) == [0, 1] and state["param_groups"][0]["params"] == [0, 1]
    w2, b2 = nn.Parameter(w.data.copy()), nn.Parameter(b.data.copy())
    fresh = cls([w2, b2], **{**options, "lr": 123.0})
    fresh.load_state_dict(state)
    assert fresh.param_groups[0]["lr"] == options["lr"]
    for t in range(6, STEPS + 1):
        w2.grad, b2.grad = gradients(w2.data, b2.data, t)
        fresh.step()
    np.testing.assert_array_equal(w2.data, full[0])
    np.testing.assert_array_equal(b2.data, full[1])


def test_state_dict_is_a_copy():
    p = nn.Parameter(np.ones(2))
    opt = optim.Adam([p])
    p.grad = np.ones(2)
    opt.step()
    state = opt.state_dict()
    state["state"][0]["exp_avg"][...] = 99.0
    assert np.all(opt.state[p]["exp_avg"] != 99.0)


def test_load_state_dict_mismatch_raises_and_changes_nothing():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(3)
    opt.step()
    before = opt.state_dict()
    other = optim.Adam([nn.Parameter(np.ones(2))], lr=0.5)
    other_state = other.state_dict()
    with pytest.raises(
        ValueError, match="group 0 has 1 parameters in the state, 2 in this optimizer"
    ):
        opt.load_state_dict(other_state)
    swapped = optim.Adam([nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))], lr=0.5)
    for p in swapped.param_groups[0]["params"]:
        p.grad = np.ones(p.shape)
    swapped.step()
    with pytest.raises(ValueError, match=r"state\[0\]\['exp_avg'\] has shape \(3,\)"):
        opt.load_state_dict(swapped.state_dict())
    with pytest.raises(TypeError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"weight": np.ones(2)})
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index, entry in before["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(after["state"][index][key], value)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: optim.SGD(p, lr=-0.1), "SGD: lr must be a finite number >= 0"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\)"),
        (lambda p: optim.Adam(p, eps=-1), "Adam: eps"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "RMSprop: alpha"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), "Adagrad: lr_decay"),
        (lambda p: optim.SGD([{"params": p, "momentum": -1}], lr=0.1), "SGD: momentum"),
        (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda p: optim.SGD(p + p, lr=0.1), "appears more than once"),
    ],
)
def test_bad_options_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make([nn.Parameter(np.ones(2))])


def test_bad_params_raise_type_error():
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(nn.Parameter(np.ones(2)), lr=0.1)
    with pytest.raises(TypeError, match="Parameter/Tensor"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="requires_grad=True"):
        optim.SGD([tn.tensor([1.0])], lr=0.1)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: optim.SGD(p, lr="0.1"), "SGD: lr must be a finite number >= 0, got '0.1'"),
        (lambda p: optim.SGD(p, lr=True), "SGD: lr must be a finite number >= 0, got True"),
        (lambda p: optim.Adam(p, betas=0.9), r"Adam: betas must be a pair \(beta1, beta2\)"),
        (lambda p: optim.Adam(p, betas=(0.9, "0.99")), r"Adam: betas\[1\] must be a finite number"),
        (lambda p: optim.RMSprop(p, alpha=None), "RMSprop: alpha"),
    ],
)
def test_options_of_the_wrong_type_raise_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make([nn.Parameter(np.ones(2))])


def test_training_a_model_reduces_the_loss():
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.05)
    x, y = X.astype(np.float32), Y.astype(np.float32)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert "Parameter Group 0" in repr(opt) and "lr: 0.05" in repr(opt)


# ------------------------------------------------------------------ lr_mult (parametrizations)
LR_MULT = 0.37


@pytest.mark.parametrize("name", list(CASES))
def test_lr_mult_scales_the_applied_rate(name):
    """Every rule with a group's ``lr_mult`` equals the written rule at ``lr * lr_mult`` (for AdamW
    the decoupled decay ``lr·λ·θ`` is scaled too, as mup's MuAdamW does)."""
    cls, options, rule = CASES[name]
    got = run(lambda params: cls([{"params": params, "lr_mult": LR_MULT}], **options))
    want = reference(rule(**{**options, "lr": options["lr"] * LR_MULT}))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    plain = run(lambda params: cls(params, **options))
    assert np.max(np.abs(got[0] - plain[0])) > 1e-6  # the multiplier mattered


def test_lr_mult_per_group_and_default_one():
    w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
    opt = optim.SGD([{"params": [w], "lr_mult": 4.0}, {"params": [b]}], lr=0.1)
    w.grad, b.grad = gradients(w.data, b.data, 1)
    gw, gb = w.grad.copy(), b.grad.copy()
    opt.step()
    np.testing.assert_allclose(w.data, W0 - 0.4 * gw, rtol=1e-12)
    np.testing.assert_allclose(b.data, B0 - 0.1 * gb, rtol=1e-12)
    assert "lr_mult" not in opt.param_groups[1] and optim.effective_lr(opt.param_groups[1]) == 0.1


def test_schedulers_change_lr_and_the_multiplier_rides_on_top():
    p = nn.Parameter(np.zeros(3))
    opt = optim.SGD([{"params": [p], "lr_mult": 0.25}], lr=0.8)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    grad = np.array([1.0, -2.0, 3.0])
    for epoch in range(3):
        lr = 0.8 * 0.5**epoch
        assert opt.param_groups[0]["lr"] == pytest.approx(lr)
        assert opt.param_groups[0]["lr_mult"] == 0.25
        before = p.data.copy()
        p.grad = grad
        opt.step()
        np.testing.assert_allclose(p.data, before - lr * 0.25 * grad, rtol=1e-12)
        sched.step()


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_state_dict_round_trip_keeps_groups_and_multipliers(cls, tmp_path):
    def make():
        w, b = nn.Parameter(W0.copy()), nn.Parameter(B0.copy())
        groups = [
            {"params": [w], "lr_mult": 0.5, "name": "w", "role": "hidden"},
            {"params": [b], "lr_mult": 2.0, "name": "b", "role": "bias"},
        ]
        return w, b, cls(groups, lr=0.01)

    w, b, opt = make()
    w.grad, b.grad = gradients(w.data, b.data, 1)
    opt.step()
    tn.save(opt.state_dict(), tmp_path / "opt.npz")
    w2, b2, fresh = make()
    for group in fresh.param_groups:
        group["lr_mult"] = 1.0
    fresh.load_state_dict(tn.load(tmp_path / "opt.npz"))
    assert [g["lr_mult"] for g in fresh.param_groups] == [0.5, 2.0]
    assert [g["name"] for g in fresh.param_groups] == ["w", "b"]
    assert fresh.param_groups[0]["params"] == [w2]
    w2.data[...], b2.data[...] = w.data, b.data
    for params, o in (((w, b), opt), ((w2, b2), fresh)):
        params[0].grad, params[1].grad = gradients(params[0].data, params[1].data, 2)
        o.step()
    np.testing.assert_array_equal(w2.data, w.data)
    np.testing.assert_array_equal(b2.data, b.data)


def test_bad_lr_mult_raises():
    with pytest.raises(ValueError, match="SGD: lr_mult must be a finite number >= 0, got -1"):
        optim.SGD([{"params": [nn.Parameter(np.ones(2))], "lr_mult": -1}], lr=0.1)
    with pytest.raises(TypeError, match="Adam: lr_mult must be a finite number"):
        optim.Adam([{"params": [nn.Parameter(np.ones(2))], "lr_mult": "2"}])
