"""Training interrupted after epoch k and resumed from a checkpoint is bit-identical to training
without interruption: model (with BatchNorm buffers), Adam state, StepLR, epoch and RNG state; and
``experiments.run`` resumes only the configuration that wrote the checkpoint, its first record
describing the loaded model."""

from dataclasses import replace

import numpy as np
import pytest

import tinynet as tn
from tinynet import experiments, nn, optim
from tinynet.experiments import Config, Dataset
from tinynet.training import ConfigMismatchError

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


# ---------------------------------------------------------------- experiments.run: the one run
def _blobs() -> Dataset:
    rng = np.random.default_rng(3)
    centres = 3 * rng.standard_normal((3, 6))
    y = rng.integers(0, 3, 150)
    x = (centres[y] + rng.standard_normal((150, 6))).astype(np.float32)
    return Dataset("blobs", x[:120], y[:120], x[120:], y[120:])


BLOBS = _blobs()
BASE = Config(depth=2, width=8, epochs=1, batch_size=16, lr=0.05, probe_size=32)


def _run(config, **kwargs):
    return experiments.run(config, progress=False, log=lambda line: None, dataset=BLOBS, **kwargs)


def test_run_resume_is_bit_identical_and_first_record_is_the_loaded_model(tmp_path):
    path = tmp_path / "run.npz"
    straight = _run(replace(BASE, epochs=3))
    first = _run(BASE, checkpoint=path)
    resumed = _run(replace(BASE, epochs=3), resume=path)
    for (name, a), (_, b) in zip(
        straight.model.named_parameters(), resumed.model.named_parameters(), strict=True
    ):
        assert np.array_equal(a.data, b.data), name
    assert resumed.fit.step_losses == straight.fit.step_losses
    assert resumed.fit.history == [
        {**h, "seconds": r["seconds"]} for h, r in zip(straight.fit.history, resumed.fit.history, strict=True)
    ]
    steps = 8  # 120 examples in batches of 16
    loaded = resumed.monitor.history[0]
    checkpointed = first.monitor.history[-1]  # the same weights, recorded by the first run
    assert loaded["step"] == checkpointed["step"] == steps
    assert loaded["loss"] == checkpointed["loss"] and loaded["accuracy"] == checkpointed["accuracy"]
    fresh = first.monitor.history[0]
    assert fresh["step"] == 0 and loaded["loss"] != fresh["loss"]
    assert [r["step"] for r in resumed.monitor.history] == [steps, 2 * steps, 3 * steps]
    assert "Findings at step 8:" in resumed.report() and "at initialization" not in resumed.report()
    saved = tn.load(path)["model"]
    assert sorted(resumed.initial_state) == sorted(saved)  # the state it started from: the loaded one
    for name, value in saved.items():
        np.testing.assert_array_equal(resumed.initial_state[name], value, err_msg=name)


def test_run_resume_refuses_another_configuration(tmp_path):
    path = tmp_path / "run.npz"
    _run(BASE, checkpoint=path)
    with pytest.raises(ConfigMismatchError) as info:
        _run(replace(BASE, init="he", seed=4, epochs=2), resume=path)
    text = str(info.value)
    assert "init: checkpoint 'xavier', this run 'he'" in text
    assert "seed: checkpoint 0, this run 4" in text
    assert [m[0] for m in info.value.mismatches] == ["init", "seed"]  # not epochs
    # the optimizer's defaults count as what they stand for: lr None on SGD is 0.02, momentum 0.9
    _run(replace(BASE, epochs=2), resume=path)
    default_lr = replace(BASE, lr=None)
    _run(default_lr, checkpoint=path)
    _run(replace(default_lr, lr=0.02, momentum=0.9, epochs=2), resume=path)
    with pytest.raises(ConfigMismatchError, match=r"momentum: checkpoint 0\.9, this run 0\.5"):
        _run(replace(default_lr, momentum=0.5), resume=path)


def test_run_force_resumes_with_a_warning_line(tmp_path):
    path = tmp_path / "run.npz"
    _run(BASE, checkpoint=path)
    lines = []
    result = experiments.run(replace(BASE, init="he", epochs=2), progress=False, log=lines.append,
                             dataset=BLOBS, resume=path, force=True)  # fmt: skip
    assert lines[0].startswith("warning: checkpoint")
    assert "init: checkpoint 'xavier', this run 'he'" in lines[0]
    assert lines[1].startswith("epoch 2/2") and result.fit.steps == 16
    with pytest.warns(UserWarning, match="init: checkpoint 'xavier', this run 'he'"):
        experiments.run(replace(BASE, init="he", epochs=2), quiet=True, dataset=BLOBS, resume=path,
                        force=True)  # fmt: skip


def test_run_refuses_a_checkpoint_without_configuration(tmp_path):
    path = tmp_path / "plain.npz"
    model = experiments.build_mlp(6, 3, depth=2, width=8, rng=0)
    tn.training.fit(model, optim.SGD(model.parameters(), lr=0.05), (BLOBS.x_train, BLOBS.y_train),
                    epochs=1, progress=False, verbose=False, checkpoint=path)  # fmt: skip
    with pytest.raises(ConfigMismatchError, match="stores no run configuration"):
        _run(replace(BASE, epochs=2), resume=path)
    lines = []
    experiments.run(replace(BASE, epochs=2), progress=False, log=lines.append, dataset=BLOBS,
                    resume=path, force=True)  # fmt: skip
    assert "stores no run configuration" in lines[0]


# ---------------------------------------------------------------- a failed resume changes nothing
def _tree_equal(a, b, where="state"):
    """Bit-identical trees of dicts, lists and arrays (same keys, dtypes, shapes and bits)."""
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _tree_equal(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _tree_equal(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where
    else:
        assert a == b or (a != a and b != b), where


def _everything(model, opt, scheduler):
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "groups": groups,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": tn.default_generator().bit_generator.state,
    }


def _trained(opt_name="adam", hidden=12, seed=0, epochs=1, checkpoint=None):
    """A model with an optimizer and scheduler that have state (one epoch of fit)."""
    tn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 3))
    make = {"adam": lambda p: optim.Adam(p, lr=0.01), "sgd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
            "adamw": lambda p: optim.AdamW(p, lr=0.01), "rmsprop": lambda p: optim.RMSprop(p)}  # fmt: skip
    opt = make[opt_name](model.parameters())
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    tn.training.fit(model, opt, (X, Y), epochs=epochs, batch_size=BATCH, scheduler=scheduler,
                    progress=False, verbose=False, rng=seed, checkpoint=checkpoint)  # fmt: skip
    return model, opt, scheduler


def _edit(path, tmp_path, change):
    state = tn.load(path)
    change(state)
    edited = tmp_path / "edited.npz"
    tn.save(state, edited)
    return edited


def _older_format(state):
    del state["optimizer_type"]  # an older checkpoint: the optimizer's class is not stored


FAILED_RESUMES = {
    # name: (optimizer of the checkpoint, of the resuming run, hidden width of the run, edit, match)
    "adam on an sgd checkpoint": ("sgd", "adam", 12, None, "the optimizer SGD, this run's is Adam"),
    "adamw on an adam checkpoint": ("adam", "adamw", 12, None, "the optimizer Adam, this run's is AdamW"),
    "adam on an sgd checkpoint of an older format": (
        "sgd", "adam", 12, _older_format, "lacks Adam's option.*'betas'"),
    "sgd on an adam checkpoint of an older format": (
        "adam", "sgd", 12, _older_format, "lacks SGD's option.*'momentum'"),
    "no optimizer key": ("adam", "adam", 12, lambda s: s.pop("optimizer"), "it lacks 'optimizer'"),
    "no step key": ("adam", "adam", 12, lambda s: s.pop("step"), "it lacks 'step'"),
    "wrong-shape model": (
        "adam", "adam", 10, None, r"0\.weight has shape \(6, 12\), the model's is \(6, 10\)"),
    "no scheduler state": ("adam", "adam", 12, lambda s: s.pop("scheduler"), "holds no scheduler state"),
    "scheduler state of another scheduler": (
        "adam", "adam", 12, lambda s: s["scheduler"].pop("gamma"), "missing.*gamma"),
    "an optimizer state array of the wrong shape": (
        "adam", "adam", 12, lambda s: s["optimizer"]["state"][0].update(exp_avg=np.zeros(3)),
        r"state\[0\]\['exp_avg'\] has shape \(3,\)"),
    "a bad generator state": ("adam", "adam", 12, lambda s: s.update(default_rng='{"x": 1}'), "not a usable"),
    "an unreadable history": ("adam", "adam", 12, lambda s: s.update(history="[" * 100_000), "'history'"),
    "a negative epoch": ("adam", "adam", 12, lambda s: s.update(epoch=-1), "'epoch' must be an int >= 0"),
    "a seed that is not a number": ("adam", "adam", 12, lambda s: s.update(seed="12a"), "'seed'"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(FAILED_RESUMES))
def test_a_failed_resume_leaves_model_optimizer_and_scheduler_bit_identical(tmp_path, case):
    saved_opt, run_opt, hidden, edit, match = FAILED_RESUMES[case]
    path = tmp_path / "ckpt.npz"
    _trained(saved_opt, checkpoint=path)
    if edit is not None:
        path = _edit(path, tmp_path, edit)
    model, opt, scheduler = _trained(run_opt, hidden=hidden, seed=7)  # its own, different state
    before = _everything(model, opt, scheduler)
    with pytest.raises(ValueError, match=match):
        tn.training.fit(model, opt, (X, Y), epochs=3, batch_size=BATCH, scheduler=scheduler,
                        resume=path, progress=False, verbose=False)  # fmt: skip
    _tree_equal(before, _everything(model, opt, scheduler))


def test_a_load_that_fails_half_way_is_rolled_back(tmp_path, monkeypatch):
    """Validation passes; the optimizer's load then writes and fails (as a bug or an interrupt
    might): the model loaded before it, and the optimizer itself, are put back exactly."""
    path = tmp_path / "ckpt.npz"
    _trained("adam", checkpoint=path)
    model, opt, scheduler = _trained("adam", seed=7)
    before = _everything(model, opt, scheduler)
    real = opt.load_state_dict

    def load_then_fail(state):
        real(state)
        opt.param_groups[0]["sneaked_in"] = True
        raise KeyboardInterrupt

    monkeypatch.setattr(opt, "load_state_dict", load_then_fail)
    with pytest.raises(KeyboardInterrupt):
        tn.training.fit(model, opt, (X, Y), epochs=3, batch_size=BATCH, scheduler=scheduler,
                        resume=path, progress=False, verbose=False)  # fmt: skip
    _tree_equal(before, _everything(model, opt, scheduler))
    assert "sneaked_in" not in opt.param_groups[0]


def test_validation_is_the_optimizers_own_and_changes_nothing():
    """Every pair of optimizer kinds refuses the other's state (by its options), and a state array
    of the wrong shape is refused even where the optimizer keeps None until its first step (SGD's
    momentum buffer, which the old check let through)."""
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))
    makers = [lambda: optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
              lambda: optim.Adam(model.parameters()), lambda: optim.RMSprop(model.parameters()),
              lambda: optim.Adagrad(model.parameters())]  # fmt: skip
    states = []
    for make in makers:
        opt = make()
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(X), Y).backward()
        opt.step()
        states.append((type(opt).__name__, opt.state_dict()))
    for make in makers:
        opt = make()
        before = opt.state_dict()
        for name, state in states:
            if name == type(opt).__name__:
                opt.check_state_dict(state)
                continue
            with pytest.raises(ValueError, match=f"lacks {type(opt).__name__}'s option"):
                opt.load_state_dict(state)
        _tree_equal(before, opt.state_dict())
    sgd = makers[0]()
    bad = states[0][1]
    bad["state"][0]["momentum_buffer"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"momentum_buffer'\] has shape \(2, 2\)"):
        sgd.load_state_dict(bad)
    bad["state"][0]["momentum_buffer"] = "fast"
    with pytest.raises(TypeError, match="must be an array or None"):
        sgd.load_state_dict(bad)


def test_run_validates_the_whole_checkpoint_before_loading_its_weights(tmp_path, monkeypatch):
    """experiments.run loads the checkpoint's weights early (for the first record): forced onto
    another optimizer or another width, it refuses before any weight is loaded."""
    path = tmp_path / "run.npz"
    _run(BASE, checkpoint=path)
    loads = []
    original = nn.Module.load_state_dict

    def spy(self, state_dict, strict=True):
        loads.append(type(self).__name__)
        return original(self, state_dict, strict)

    monkeypatch.setattr(nn.Module, "load_state_dict", spy)
    with pytest.warns(UserWarning, match="optimizer: checkpoint 'sgd'"):
        with pytest.raises(ValueError, match="the optimizer SGD, this run's is Adam"):
            experiments.run(replace(BASE, optimizer="adam", epochs=2), quiet=True, dataset=BLOBS,
                            resume=path, force=True)  # fmt: skip
    with pytest.warns(UserWarning, match="width: checkpoint 8"):
        with pytest.raises(ValueError, match=r"its model state does not fit this model: .*\(6, 8\)"):
            experiments.run(replace(BASE, width=5, epochs=2), quiet=True, dataset=BLOBS,
                            resume=path, force=True)  # fmt: skip
    assert loads == []
