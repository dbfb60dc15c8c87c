"""Training interrupted after epoch k and resumed from a checkpoint is bit-identical to training
without interruption: model (with BatchNorm buffers), Adam state, StepLR, epoch and RNG state."""

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, optim

EPOCHS, BATCH = 4, 16
DATA_RNG = np.random.default_rng(123)
X = DATA_RNG.standard_normal((64, 6)).astype(np.float32)
Y = DATA_RNG.integers(0, 3, size=64)


def build(seed):
    """Fresh model, optimizer and scheduler. Dropout and shuffling draw from the default Generator,
    so its state is part of what a checkpoint must restore."""
    tn.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(6, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Dropout(0.2), nn.Linear(12, 3)
    )
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") else decay).append(p)
    opt = optim.Adam(
        [{"params": decay, "weight_decay": 1e-3}, {"params": no_decay, "weight_decay": 0.0}],
        lr=0.01,
    )
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    return model, opt, scheduler


def train_epoch(model, opt, scheduler):
    model.train()
    order = tn.default_generator().permutation(len(X))
    loss_fn = nn.CrossEntropyLoss()
    for start in range(0, len(X), BATCH):
        idx = order[start : start + BATCH]
        opt.zero_grad()
        loss = loss_fn(model(X[idx]), Y[idx])
        loss.backward()
        opt.step()
    scheduler.step()


def checkpoint(model, opt, scheduler, epoch):
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "rng": tn.default_generator().bit_generator.state,
    }


@pytest.mark.parametrize("k", [1, 2])
def test_resumed_training_is_bit_identical(tmp_path, k):
    model, opt, scheduler = build(seed=0)
    for _ in range(EPOCHS):
        train_epoch(model, opt, scheduler)
    uninterrupted = model.state_dict()

    model, opt, scheduler = build(seed=0)
    for _ in range(k):
        train_epoch(model, opt, scheduler)
    path = tmp_path / "ckpt.npz"
    tn.save(checkpoint(model, opt, scheduler, k), path)
    del model, opt, scheduler

    model, opt, scheduler = build(
        seed=99
    )  # different weights and stream: everything must come from the file
    tn.manual_seed(5)
    state = tn.load(path)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    tn.default_generator().bit_generator.state = state["rng"]
    assert state["epoch"] == k
    for _ in range(state["epoch"], EPOCHS):
        train_epoch(model, opt, scheduler)

    resumed = model.state_dict()
    assert list(resumed) == list(uninterrupted)
    for key in uninterrupted:
        assert resumed[key].dtype == uninterrupted[key].dtype
        np.testing.assert_array_equal(resumed[key], uninterrupted[key], err_msg=key)
    assert scheduler.get_last_lr() == pytest.approx([0.01 * 0.7**EPOCHS] * 2)


def test_resume_without_rng_state_diverges(tmp_path):
    """The RNG state matters here (dropout masks, shuffling): the test above would catch its
    loss."""
    model, opt, scheduler = build(seed=0)
    for _ in range(EPOCHS):
        train_epoch(model, opt, scheduler)
    uninterrupted = model.state_dict()
    model, opt, scheduler = build(seed=0)
    train_epoch(model, opt, scheduler)
    saved = checkpoint(model, opt, scheduler, 1)
    model, opt, scheduler = build(seed=99)
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    for _ in range(1, EPOCHS):
        train_epoch(model, opt, scheduler)
    assert not np.array_equal(model.state_dict()["0.weight"], uninterrupted["0.weight"])
