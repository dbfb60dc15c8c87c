"""fit/evaluate: learning, evaluation by hand, divergence detection, checkpoints and resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import experiments, nn, optim
from tinynet.diagnostics import Monitor
from tinynet.training import (
    CHECKPOINT_FORMAT,
    ConfigMismatchError,
    DivergenceError,
    check_config,
    config_mismatches,
    count_nonfinite,
    evaluate,
    fit,
    read_checkpoint,
)
from tinynet.training.divergence import GradTracker, Guard, NonFinite, diverged

RNG = np.random.default_rng(11)
CENTRES = 3.0 * RNG.standard_normal((3, 8))
LABELS = RNG.integers(0, 3, 240)
X = (CENTRES[LABELS] + RNG.standard_normal((240, 8))).astype(np.float32)
TRAIN, TEST = (X[:180], LABELS[:180]), (X[180:], LABELS[180:])


def _model(seed: int = 0) -> nn.Sequential:
    tn.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))


def test_fit_learns_separable_blobs_and_reports_history(capsys):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = fit(model, opt, TRAIN, TEST, epochs=3, batch_size=32, progress=False, rng=0)
    assert not result.diverged and result.message is None
    assert result.steps == 3 * math.ceil(180 / 32)
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert result.test_accuracy > 0.9
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 3 and out.out.startswith("epoch 1/3  train loss")
    assert out.err == ""  # progress=False: no bars


def test_progress_bars_go_to_stderr(capsys):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, opt, TRAIN, epochs=1, batch_size=64, progress=True, rng=0)
    captured = capsys.readouterr()
    assert "epoch" in captured.err and captured.out.startswith("epoch 1/1")


def test_evaluate_by_hand():
    tn.set_default_dtype(np.float64)
    model = nn.Sequential(nn.Linear(2, 2))
    model[0].weight.data = np.eye(2)
    model[0].bias.data = np.zeros(2)
    x = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    y = np.array([0, 0, 0])
    loss, acc = evaluate(model, x, y, batch_size=2)
    logsumexp = np.log(np.exp(x).sum(axis=1))
    assert loss == pytest.approx(np.mean(logsumexp - x[:, 0]))
    assert acc == pytest.approx(2 / 3)
    assert model.training  # mode restored


def test_fit_with_monitor_records_every_epoch():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    steps = math.ceil(180 / 60)
    monitor = Monitor(model, X[:32], LABELS[:32], every=steps)
    result = fit(model, opt, TRAIN, epochs=2, batch_size=60, monitor=monitor, progress=False, rng=0)
    assert [r["step"] for r in monitor.history] == [0, steps, 2 * steps]
    assert len(monitor.updates["0.weight"]) == result.steps == 2 * steps
    assert all(v is not None for _, v in monitor.updates["0.weight"])


def test_divergence_stops_with_one_message(capsys):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1e6)
    result = fit(model, opt, TRAIN, TEST, epochs=5, batch_size=16, progress=False, rng=0)
    assert result.diverged and result.history == []
    d = result.divergence
    reasons = ("exploding loss", "nan loss", "inf loss", "non-finite gradient")
    assert d.step >= 2 and d.reason in reasons
    assert d.layer is not None and d.layer.endswith(("weight", "bias"))
    assert f"training diverged at step {d.step} (epoch 1, batch {d.step})" in d.message
    assert "blew up first in layer" in d.message
    assert "learning rate" in d.message and "lr=1e+06" in d.message
    assert "initial" in d.message
    assert all(np.isfinite(p.data).all() for p in model.parameters())  # bad update never applied
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [d.message]  # no wall of nan lines


def test_nan_loss_at_the_first_step():
    model = _model()
    model[0].weight.data[0, 0] = np.nan
    opt = optim.SGD(model.parameters(), lr=0.1)
    result = fit(model, opt, TRAIN, epochs=2, batch_size=32, progress=False, verbose=False, rng=0)
    assert result.diverged and result.divergence.step == 1 and result.steps == 0
    assert result.divergence.reason == "nan loss"
    assert "the loss became nan" in result.message


def test_divergence_can_raise():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(DivergenceError, match="training diverged at step") as info:
        fit(model, opt, TRAIN, epochs=2, batch_size=16, progress=False, verbose=False,
            on_divergence="raise", rng=0)  # fmt: skip
    assert info.value.result.diverged and info.value.divergence.step >= 2


def _train(epochs, *, checkpoint=None, resume=None, seed=0):
    """Dropout draws from the default Generator, so a checkpoint must restore its state too."""
    tn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    result = fit(
        model, opt, TRAIN, TEST, epochs=epochs, batch_size=32, progress=False, verbose=False,
        checkpoint=checkpoint, resume=resume, scheduler=sched, rng=seed,
    )  # fmt: skip
    return model, result


def test_resume_is_bit_identical(tmp_path):
    straight, full = _train(3)
    path = tmp_path / "ckpt.npz"
    _train(1, checkpoint=path)
    assert path.exists()
    resumed, rest = _train(3, resume=path)
    pairs = zip(straight.named_parameters(), resumed.named_parameters(), strict=True)
    for (name, a), (_, b) in pairs:
        assert np.array_equal(a.data, b.data), name
    assert rest.steps == full.steps
    assert rest.step_losses == full.step_losses and len(rest.step_losses) == full.steps
    assert [h["epoch"] for h in rest.history] == [1, 2, 3]
    assert rest.history[-1]["test_loss"] == full.history[-1]["test_loss"]
    assert rest.history[-1]["lr"] == pytest.approx(0.01 * 0.5**3)


def test_resume_rejects_other_files(tmp_path):
    path = tmp_path / "other.npz"
    tn.save({"weights": np.zeros(3)}, path)
    model = _model()
    with pytest.raises(ValueError, match="is not a checkpoint written by fit"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), TRAIN, epochs=1, resume=path,
            progress=False)  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": -1}, "epochs must be an int >= 0"),
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"on_divergence": "ignore"}, "on_divergence must be 'stop' or 'raise'"),
        ({"train_data": (X, LABELS[:5])}, "has 240 inputs but 5 targets"),
        ({"train_data": X}, "must be a pair"),
        ({"on_step": 3}, "on_step must be a callable"),
    ],
)
def test_fit_bad_arguments(kwargs, match):
    model = _model()
    args = {"train_data": TRAIN, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        fit(model, optim.SGD(model.parameters(), lr=0.1), progress=False, **args)


def test_zero_epochs_trains_nothing():
    model = _model()
    before = [p.data.copy() for p in model.parameters()]
    result = fit(model, optim.SGD(model.parameters(), lr=0.1), TRAIN, epochs=0, progress=False)
    assert result.steps == 0 and result.history == []
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters(), strict=True))


def test_step_losses_one_per_step_and_their_epoch_means_are_the_history():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    result = fit(model, opt, TRAIN, epochs=2, batch_size=32, progress=False, verbose=False, rng=0)
    per_epoch = math.ceil(180 / 32)
    assert len(result.step_losses) == result.steps == 2 * per_epoch
    sizes = np.array([32] * (per_epoch - 1) + [180 - 32 * (per_epoch - 1)])
    for e, entry in enumerate(result.history):
        losses = np.array(result.step_losses[e * per_epoch : (e + 1) * per_epoch])
        assert entry["train_loss"] == pytest.approx(float(losses @ sizes) / 180, rel=1e-12)
    assert result.to_dict()["step_losses"] == result.step_losses


def test_on_step_sees_every_step_after_its_update():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    seen = []

    def after(step):  # the weights it sees are those after the update of this step
        seen.append((step, model[0].weight.data.copy()))

    result = fit(model, opt, TRAIN, epochs=2, batch_size=64, progress=False, verbose=False, on_step=after)
    assert [step for step, _ in seen] == list(range(1, result.steps + 1)) == list(range(1, 7))
    assert np.array_equal(seen[-1][1], model[0].weight.data)
    assert not np.array_equal(seen[0][1], seen[1][1])


def test_step_loss_is_the_batch_loss_before_the_update():
    model = _model()
    before, _ = evaluate(model, *TRAIN)  # one batch of all 180 examples: its mean loss
    opt = optim.SGD(model.parameters(), lr=0.1)
    result = fit(model, opt, TRAIN, epochs=3, batch_size=180, progress=False, verbose=False, rng=0)
    assert result.step_losses[0] == pytest.approx(before, rel=1e-5)
    assert [h["train_loss"] for h in result.history] == pytest.approx(result.step_losses, rel=1e-12)
    assert result.step_losses[2] < result.step_losses[0]


def test_divergence_keeps_only_the_losses_of_steps_taken():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1e6)
    result = fit(model, opt, TRAIN, epochs=5, batch_size=16, progress=False, verbose=False, rng=0)
    assert result.diverged and len(result.step_losses) == result.steps == result.divergence.step - 1
    assert all(math.isfinite(v) for v in result.step_losses)


CONFIG = {"init": "xavier", "lr": 0.01, "depth": 1, "epochs": 1}


def test_checkpoint_stores_config_and_step_losses(tmp_path):
    path = tmp_path / "ckpt.npz"
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    result = fit(model, opt, TRAIN, epochs=2, batch_size=64, progress=False, verbose=False, rng=0,
                 checkpoint=path, config=CONFIG)  # fmt: skip
    ckpt = read_checkpoint(path)
    assert ckpt.format == CHECKPOINT_FORMAT == "tinynet-fit-2"
    assert ckpt.config == CONFIG and ckpt.epoch == 2 and ckpt.step == result.steps == 6
    assert ckpt.step_losses == result.step_losses
    for name, value in model.state_dict().items():
        assert np.array_equal(ckpt.model_state[name], value), name
    assert check_config(ckpt, {**CONFIG, "epochs": 5}, ["init", "lr", "depth"]) is None


def test_config_mismatch_names_each_key_with_both_values(tmp_path):
    path = tmp_path / "ckpt.npz"
    model = _model()
    fit(model, optim.SGD(model.parameters(), lr=0.1), TRAIN, epochs=1, progress=False, verbose=False,
        rng=0, checkpoint=path, config=CONFIG)  # fmt: skip
    ckpt = read_checkpoint(path)
    given = {**CONFIG, "init": "he", "depth": 3, "epochs": 9}
    assert config_mismatches(ckpt.config, given, ["init", "lr", "depth"]) == [
        ("init", "xavier", "he"), ("depth", 1, 3)
    ]  # fmt: skip
    with pytest.raises(ConfigMismatchError) as info:
        check_config(ckpt, given, ["init", "lr", "depth"])
    assert isinstance(info.value, ValueError)
    text = str(info.value)
    assert "init: checkpoint 'xavier', this run 'he'" in text and "depth: checkpoint 1, this run 3" in text
    assert "epochs" not in text and "force=True" in text
    assert info.value.describe("command line").endswith("depth: checkpoint 1, command line 3")
    forced = check_config(ckpt, given, ["init", "lr", "depth"], force=True)
    assert isinstance(forced, ConfigMismatchError) and forced.mismatches == info.value.mismatches


def test_checkpoint_without_config_is_refused_unless_forced(tmp_path):
    path = tmp_path / "ckpt.npz"
    model = _model()
    fit(model, optim.SGD(model.parameters(), lr=0.1), TRAIN, epochs=1, progress=False, verbose=False,
        rng=0, checkpoint=path)  # fmt: skip
    ckpt = read_checkpoint(path)
    assert ckpt.config is None
    with pytest.raises(ConfigMismatchError, match="stores no run configuration"):
        check_config(ckpt, CONFIG, ["init"])
    assert check_config(ckpt, CONFIG, ["init"], force=True).stored is None


def test_format_1_checkpoint_still_resumes(tmp_path):
    """Version 1 stored neither configuration nor step losses: its steps get NaN placeholders."""
    path = tmp_path / "ckpt.npz"
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    first = fit(model, opt, TRAIN, epochs=1, batch_size=64, progress=False, verbose=False, rng=0,
                checkpoint=path)  # fmt: skip
    state = tn.load(path)
    del state["step_losses"]
    state["format"] = "tinynet-fit-1"
    tn.save(state, path)
    ckpt = read_checkpoint(path)
    assert ckpt.format == "tinynet-fit-1" and ckpt.config is None
    assert len(ckpt.step_losses) == first.steps == 3 and all(math.isnan(v) for v in ckpt.step_losses)
    model = _model(5)
    rest = fit(model, optim.SGD(model.parameters(), lr=0.1), TRAIN, epochs=2, batch_size=64,
               progress=False, verbose=False, resume=path)  # fmt: skip
    assert rest.steps == 6 and len(rest.step_losses) == 6
    assert all(math.isfinite(v) for v in rest.step_losses[3:])
    assert rest.to_dict()["step_losses"][:3] == [None, None, None]


# ------------------------------------------------------------------ NaN/inf in the data: named first
def test_one_nan_input_is_named_as_the_cause_not_the_learning_rate():
    x = TRAIN[0].copy()
    x[7, 3] = np.nan
    model = _model()
    result = fit(model, optim.SGD(model.parameters(), lr=0.1), (x, TRAIN[1]), epochs=2,
                 batch_size=32, progress=False, verbose=False, rng=0)  # fmt: skip
    d = result.divergence
    assert result.diverged and d.reason == "nan loss" and d.batch_nonfinite == 1
    assert "The data holds NaN/inf: this batch holds 1 NaN/inf value in 1 of" in d.message
    assert "the training data holds 1 NaN/inf value in 1 of 180 examples" in d.message
    assert "learning rate too high" not in d.message and "initial weights" not in d.message
    assert result.to_dict()["divergence"]["batch_nonfinite"] == 1
    assert all(np.isfinite(p.data).all() for p in model.parameters())  # the NaN step never applied


def test_nan_spread_by_standardization_is_counted_in_every_input():
    """The reported case: one NaN pixel, standardized with the data's (NaN) mean, spreads to every
    value; training stops at step 1 naming them all."""
    x = TRAIN[0].astype(np.float64)
    x[0, 0] = np.nan
    x = (x - x.mean()) / x.std()
    model = _model()
    with pytest.raises(DivergenceError, match="The data holds NaN/inf") as info:
        fit(model, optim.SGD(model.parameters(), lr=0.1), (x, TRAIN[1]), epochs=1, batch_size=60,
            progress=False, verbose=False, on_divergence="raise", rng=0)  # fmt: skip
    d = info.value.divergence
    assert d.step == 1 and "this batch holds 480 NaN/inf values in 60 of 60 examples" in d.message
    assert "the training data holds 1,440 NaN/inf values in 180 of 180 examples" in d.message


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the inf's backward
def test_non_finite_targets_and_values_that_overflow_the_models_dtype_count_too():
    x = TRAIN[0].astype(np.float64)
    x[3, 1] = 1e300  # finite in float64, inf once cast to the float32 model
    model = _model()
    result = fit(model, optim.SGD(model.parameters(), lr=0.1), (x, TRAIN[1]), epochs=1,
                 batch_size=180, progress=False, verbose=False, rng=0)  # fmt: skip
    assert result.diverged and "this batch holds 1 NaN/inf value in 1 of 180" in result.message
    targets = np.zeros((180, 3), dtype=np.float32)
    targets[5, 2] = np.inf
    model = _model()
    result = fit(model, optim.SGD(model.parameters(), lr=0.1), (TRAIN[0], targets), epochs=1,
                 batch_size=180, loss=nn.MSELoss(), progress=False, verbose=False, rng=0)  # fmt: skip
    assert result.diverged and "The data holds NaN/inf" in result.message


def test_divergence_on_a_clean_batch_still_blames_the_rate_and_names_the_datas_nan():
    model = _model()
    guard = Guard(100.0)
    guard.check_loss(1.0, 1)
    message = diverged("exploding loss", 1e9, 5, 1, 5, guard, GradTracker(model, 100.0),
                       optim.SGD(model.parameters(), lr=3.0), in_batch=NonFinite(0, 0, 16),
                       in_data=NonFinite(3, 2, 180)).message  # fmt: skip
    assert "a learning rate too high for this network (lr=3" in message
    assert message.endswith("Also, the data holds NaN/inf: 3 NaN/inf values in 2 of 180 examples "
                            "(none in this batch).")  # fmt: skip


def test_count_nonfinite_in_chunks_matches_a_direct_count():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3000, 700)).astype(np.float32)  # 2.1 M values: several chunks
    rows = rng.choice(3000, 40, replace=False)
    x[rows, rng.integers(0, 700, 40)] = np.nan
    x[rows[:5], 0] = np.inf  # a second bad value in five of those rows
    x[1497:1500, :] = -np.inf  # rows across a chunk boundary
    bad = ~np.isfinite(x)
    found = count_nonfinite(x, np.arange(3000))
    assert (found.values, found.examples, found.total) == (
        int(bad.sum()), int(bad.any(axis=1).sum()), 3000
    )  # fmt: skip
    assert not count_nonfinite(np.arange(6).reshape(3, 2), np.zeros(3))  # ints hold none


def test_evaluation_on_non_finite_test_data_warns_and_scores_nothing(capsys):
    x_test = TEST[0].copy()
    x_test[2, :2] = [np.nan, np.inf]
    model = _model()
    with pytest.warns(UserWarning, match=r"evaluate: the data holds NaN/inf \(2 NaN/inf values in 1 "
                      r"of 60 examples\)"):  # fmt: skip
        loss, acc = evaluate(model, x_test, TEST[1])
    assert math.isnan(loss) and acc is None
    with pytest.warns(UserWarning, match="2 NaN/inf values in 1 of 60 examples"):
        result = fit(model, optim.SGD(model.parameters(), lr=0.1), TRAIN, (x_test, TEST[1]),
                     epochs=1, progress=False, rng=0)  # fmt: skip
    line = capsys.readouterr().out.strip()
    assert "test not scored (the test data holds 2 NaN/inf values in 1 of 60 examples)" in line
    assert line.count("acc") == 1  # the training accuracy only: no meaningless test accuracy
    entry = result.history[-1]
    assert math.isnan(entry["test_loss"]) and entry["test_accuracy"] is None
    assert not result.diverged  # the training data is clean
    wide = TEST[0].astype(np.float64)
    wide[4, 4] = 1e300  # inf for the float32 model
    with pytest.warns(UserWarning, match="1 NaN/inf value in 1 of 60 examples"):
        assert evaluate(model, wide, TEST[1])[1] is None


def test_run_summary_says_why_the_test_accuracy_is_missing():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((90, 6)).astype(np.float32)
    y = rng.integers(0, 3, 90)
    x_test = x[60:].copy()
    x_test[0, 0] = np.nan
    data = experiments.Dataset("blobs", x[:60], y[:60], x_test, y[60:])
    config = experiments.Config(depth=1, width=8, epochs=1, batch_size=16, lr=0.05, probe_size=16)
    with pytest.warns(UserWarning, match="1 NaN/inf value in 1 of 30 examples"):
        result = experiments.run(config, dataset=data, quiet=True)
    text = experiments.summary(result)
    assert "test accuracy not measured (the test data holds NaN/inf values)" in text
