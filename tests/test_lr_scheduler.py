"""Learning-rate schedulers against their closed forms; state dicts; bad arguments."""

import math

import numpy as np
import pytest

from tinynet import nn, optim
from tinynet.optim import lr_scheduler as sched

EPOCHS = 14
BASES = [0.1, 0.02]


def optimizer():
    groups = [
        {"params": [nn.Parameter(np.ones(2))]},
        {"params": [nn.Parameter(np.ones(1))], "lr": BASES[1]},
    ]
    return optim.SGD(groups, lr=BASES[0], momentum=0.9)


CASES = {
    "step": (lambda o: sched.StepLR(o, step_size=3, gamma=0.5), lambda b, e: b * 0.5 ** (e // 3)),
    "exponential": (lambda o: sched.ExponentialLR(o, gamma=0.8), lambda b, e: b * 0.8**e),
    "cosine": (
        lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
        lambda b, e: 0.001 + (b - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2,
    ),
    "linear": (
        lambda o: sched.LinearLR(o),
        lambda b, e: b * (1 / 3 + (1 - 1 / 3) * min(e, 5) / 5),
    ),
    "linear-decay": (
        lambda o: sched.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=4),
        lambda b, e: b * (1.0 - 0.9 * min(e, 4) / 4),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_closed_form(name):
    make, closed = CASES[name]
    opt = optimizer()
    scheduler = make(opt)
    for epoch in range(EPOCHS):
        expected = [closed(b, epoch) for b in BASES]
        np.testing.assert_allclose(scheduler.get_last_lr(), expected, rtol=1e-14)
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], expected, rtol=1e-14)
        scheduler.step()
    assert [g["initial_lr"] for g in opt.param_groups] == BASES


def test_landmarks():
    cos = sched.CosineAnnealingLR(optimizer(), T_max=4, eta_min=0.01)
    for _ in range(4):
        cos.step()
    assert cos.get_last_lr()[0] == pytest.approx(0.01)
    warm = sched.LinearLR(optimizer())
    assert warm.get_last_lr()[0] == pytest.approx(0.1 / 3)
    for _ in range(7):
        warm.step()
    assert warm.get_last_lr()[0] == pytest.approx(0.1)


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_resumes_schedule(name):
    make, _ = CASES[name]
    reference_opt = optimizer()
    reference = make(reference_opt)
    for _ in range(6):
        reference.step()
    opt = optimizer()
    first = make(opt)
    for _ in range(3):
        first.step()
    saved_sched, saved_opt = first.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 3
    fresh_opt = optimizer()
    fresh = make(fresh_opt)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved_sched)
    for _ in range(3):
        fresh.step()
    assert fresh.get_last_lr() == reference.get_last_lr()
    assert [g["lr"] for g in fresh_opt.param_groups] == [
        g["lr"] for g in reference_opt.param_groups
    ]


def test_load_state_dict_rejects_foreign_state():
    scheduler = sched.StepLR(optimizer(), step_size=2)
    before = scheduler.state_dict()
    cosine_state = sched.CosineAnnealingLR(optimizer(), T_max=3).state_dict()
    with pytest.raises(ValueError, match="missing"):
        scheduler.load_state_dict(cosine_state)
    assert scheduler.state_dict() == before


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: sched.StepLR(o, step_size=0), ValueError, "step_size must be an int >= 1"),
        (lambda o: sched.StepLR(o, step_size=2, gamma=-0.1), ValueError, "gamma"),
        (lambda o: sched.ExponentialLR(o, gamma=0), ValueError, "gamma"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=2.5), TypeError, "T_max"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=3, eta_min=-1), ValueError, "eta_min"),
        (lambda o: sched.LinearLR(o, start_factor=0), ValueError, "start_factor"),
        (lambda o: sched.LinearLR(o, end_factor=1.5), ValueError, "end_factor"),
        (lambda o: sched.StepLR(o, step_size="3"), TypeError, "StepLR: step_size must be an int"),
        (lambda o: sched.ExponentialLR(o, gamma="0.9"), TypeError, "ExponentialLR: gamma"),
    ],
)
def test_bad_arguments(make, error, match):
    # wrong type -> TypeError, wrong value -> ValueError
    with pytest.raises(error, match=match):
        make(optimizer())


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match=r"tinynet\.optim\.Optimizer"):
        sched.StepLR([0.1], step_size=1)
