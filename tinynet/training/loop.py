"""The training loop: epochs of mini-batches, progress bars, evaluation, checkpoints, divergence.

:func:`fit` trains a model on ``(x, y)`` arrays and returns a :class:`FitResult`; :func:`evaluate`
measures loss and accuracy without recording a graph. When the loss turns NaN/inf or explodes, or a
gradient is not finite, training stops *before* the bad update with one message
(:mod:`tinynet.training.divergence`); checkpoints are :mod:`tinynet.training.checkpoint`.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from tqdm.auto import tqdm

from .._checks import check_int
from .._files import json_ready
from ..data.loader import DataLoader
from ..function import no_grad
from ..nn.functional import cross_entropy
from ..random import as_generator
from ..tensor import Tensor, get_default_dtype
from .checkpoint import Checkpoint, resume_checkpoint, save_checkpoint
from .divergence import (
    Divergence,
    DivergenceError,
    GradTracker,
    Guard,
    NonFinite,
    count_nonfinite,
    diverged,
    learning_rates,
)

__all__ = ["FitResult", "evaluate", "fit", "write_line"]


def write_line(line: str = "", file: TextIO | None = None) -> None:
    """Print ``line`` to ``file`` (default: ``sys.stdout`` at call time) without breaking progress bars.

    The line goes through ``tqdm.write``: every bar shown on the terminal is cleared first and
    redrawn below the line, so a line never lands on (or after) a bar, whichever of stdout and
    stderr each uses. The stream is flushed, so lines and bars keep their order in a shared log.
    """
    out = sys.stdout if file is None else file
    tqdm.write(line, file=out)
    out.flush()


@dataclass
class FitResult:
    """What :func:`fit` did.

    Attributes
    ----------
    history
        One dict per completed epoch: ``epoch``, ``step``, ``train_loss``, ``train_accuracy``
        (running means over the epoch's batches), ``test_loss``, ``test_accuracy`` (None without
        test data), ``lr`` and ``seconds`` (wall time of the epoch, evaluation included).
    steps
        Optimizer steps taken in total (resumed runs included).
    step_losses
        The training loss of every optimizer step, index ``k - 1`` for step ``k`` (the mini-batch
        loss computed before that step's update; steps of a resumed run's checkpoint included, NaN
        where an old checkpoint did not store them). A step stopped by the divergence guard took
        no update and has no entry.
    diverged, divergence
        True and the details when training stopped on divergence.
    monitor
        The :class:`tinynet.diagnostics.Monitor` passed in, if any.
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    step_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    diverged: bool = False
    divergence: Divergence | None = None
    monitor: Any = None

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return self.history[-1]["epoch"] if self.history else 0

    @property
    def message(self) -> str | None:
        """The divergence message, or None."""
        return self.divergence.message if self.divergence else None

    @property
    def test_accuracy(self) -> float | None:
        """Test accuracy after the last completed epoch (None if unknown)."""
        return self.history[-1]["test_accuracy"] if self.history else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the monitor is not included; use ``monitor.to_dict()``)."""
        div = None
        if self.divergence is not None:
            d = self.divergence
            div = {
                "step": d.step,
                "epoch": d.epoch,
                "batch": d.batch,
                "reason": d.reason,
                "loss": d.loss if math.isfinite(d.loss) else str(d.loss),
                "layer": d.layer,
                "batch_nonfinite": d.batch_nonfinite,
                "message": d.message,
            }
        return {
            "history": self.history,
            "steps": self.steps,
            "step_losses": json_ready(self.step_losses),
            "epochs": self.epochs,
            "seconds": self.seconds,
            "diverged": self.diverged,
            "divergence": div,
        }


# ------------------------------------------------------------------------------------------ helpers
def _arrays(data: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"fit: {name} must be a pair (x, y) of arrays, got {type(data).__name__}")
    x, y = (d.data if isinstance(d, Tensor) else np.asarray(d) for d in data)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"fit: {name} has no examples (x shape {x.shape})")
    if len(x) != len(y):
        raise ValueError(f"fit: {name} has {len(x)} inputs but {len(y)} targets")
    return x, y


def _param_dtype(model: Any) -> np.dtype:
    for p in model.parameters():
        return p.data.dtype
    return get_default_dtype()


def _as_input(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if x.dtype == dtype:
        return x
    with np.errstate(over="ignore"):  # values beyond the dtype become inf: counted and reported
        return x.astype(dtype)


def _accuracy(output: np.ndarray, y: np.ndarray) -> float | None:
    if output.ndim != 2 or y.ndim != 1 or y.dtype.kind not in "iu":
        return None
    return float(np.mean(output.argmax(axis=1) == y))


def evaluate(
    model: Any,
    x: Any,
    y: Any,
    *,
    batch_size: int = 1000,
    loss: Callable[[Tensor, Any], Tensor] | None = None,
) -> tuple[float, float | None]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, in eval mode, under ``no_grad``.

    ``loss = Σ_batches mean_loss(batch) · |batch| / N``; accuracy is the fraction of
    ``argmax(output) == y`` (None when the outputs are not ``(N, C)`` scores for integer labels).
    The model's train/eval mode is restored afterwards.

    Data holding NaN/inf (in ``x``, or in ``y`` when it holds floats) has no meaningful loss or
    accuracy (the argmax of a NaN row is class 0, which a share of the labels matches by chance):
    a ``UserWarning`` names how many values in how many examples, nothing is computed, and the
    result is ``(nan, None)``: loss not a number, accuracy not measured.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in length or are empty, or ``batch_size < 1``.
    """
    x_arr, y_arr = _arrays((x, y), "evaluate data")
    batch_size = check_int("fit", "batch_size", batch_size, minimum=1)
    dtype = _param_dtype(model)
    bad = count_nonfinite(x_arr, y_arr, x_dtype=dtype)
    if bad:
        warnings.warn(
            f"evaluate: the data holds NaN/inf ({bad.text()}); its loss is reported as nan and "
            "its accuracy as None (not measured)",
            stacklevel=2,
        )
        return math.nan, None
    loss_fn = loss or cross_entropy
    was_training = getattr(model, "training", False)
    model.eval()
    total, correct, counted = 0.0, 0.0, True
    try:
        with no_grad():
            for start in range(0, len(x_arr), batch_size):
                xb = _as_input(x_arr[start : start + batch_size], dtype)
                yb = y_arr[start : start + batch_size]
                out = model(Tensor(xb))
                total += float(loss_fn(out, yb).data) * len(xb)
                acc = _accuracy(out.data, yb)
                if acc is None:
                    counted = False
                else:
                    correct += acc * len(xb)
    finally:
        model.train(was_training)
    n = len(x_arr)
    return total / n, (correct / n if counted else None)


class _Running:
    """Running mean loss and accuracy over the batches of one epoch."""

    def __init__(self) -> None:
        self.seen, self.loss_sum, self.correct, self.acc_known = 0, 0.0, 0.0, True

    def add(self, loss: float, output: np.ndarray, y: np.ndarray) -> None:
        n = len(y)
        self.seen += n
        self.loss_sum += loss * n
        acc = _accuracy(output, y)
        if acc is None:
            self.acc_known = False
        else:
            self.correct += acc * n

    def loss(self) -> float | None:
        return self.loss_sum / self.seen if self.seen else None

    def accuracy(self) -> float | None:
        return self.correct / self.seen if self.acc_known and self.seen else None

    def text(self) -> str:
        acc = self.accuracy()
        loss = self.loss()
        return (f"loss {loss:.4f}" if loss is not None else "") + (
            f" acc {100 * acc:.1f}%" if acc is not None else ""
        )



# ------------------------------------------------------------------------------------------ fit
def fit(
    model: Any,
    optimizer: Any,
    train_data: tuple[Any, Any],
    test_data: tuple[Any, Any] | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 64,
    loss: Callable[[Tensor, Any], Tensor] | None = None,
    monitor: Any = None,
    progress: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | Checkpoint | None = None,
    scheduler: Any = None,
    rng: np.random.Generator | int | None = None,
    on_divergence: str = "stop",
    explode_factor: float = 100.0,
    verbose: bool = True,
    log: Callable[[str], None] | None = None,
    eval_batch_size: int = 1000,
    config: Mapping[str, Any] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> FitResult:
    """Train ``model`` with ``optimizer`` for ``epochs`` epochs of shuffled mini-batches.

    Each step: ``out = model(x_batch)``, ``L = loss(out, y_batch)`` (cross-entropy by default),
    ``optimizer.zero_grad()``, ``L.backward()``, ``optimizer.step()``, then
    ``monitor.on_step(step)``. After each epoch: evaluation on ``test_data`` (:func:`evaluate`),
    ``scheduler.step()``, one printed line, and a checkpoint when ``checkpoint`` is set.

    Parameters
    ----------
    train_data, test_data
        ``(x, y)`` numpy arrays (or Tensors); ``x`` is converted to the model's parameter dtype.
    monitor
        A :class:`tinynet.diagnostics.Monitor` on this model, or None.
    progress
        Show tqdm bars (epochs, and batches with running loss and accuracy) on stderr; False
        silences them.
    checkpoint
        Path of a ``.npz`` checkpoint written (atomically, by ``tn.save``) after every epoch: model,
        optimizer and scheduler state, epoch, step, shuffling seed, default-generator state,
        history, step losses and ``config`` (:mod:`tinynet.training.checkpoint`).
    resume
        Path of such a checkpoint to continue from; training runs the remaining epochs up to
        ``epochs`` and gives bit-identical parameters to an uninterrupted run (a
        :class:`~tinynet.training.Checkpoint` already read is accepted too). Transactional: the
        whole checkpoint is validated before anything is loaded, and a resume that fails leaves
        model, optimizer and scheduler bit-identical. fit does not compare configurations:
        :func:`tinynet.training.check_config` does (``experiments.run`` calls it).
    rng
        Seed or Generator for shuffling: epoch ``e`` is shuffled with ``default_rng([seed, e])``,
        where the seed is drawn once from ``rng`` (stored in checkpoints).
    on_divergence
        ``"stop"`` returns a result with ``diverged=True`` and the message; ``"raise"`` raises
        :class:`DivergenceError`.
    explode_factor
        The loss *explodes* when it exceeds ``explode_factor · max(first loss, 1)``.
    verbose, log
        Print one line per epoch (and the divergence message) through ``log`` (default:
        :func:`write_line` to stdout, which keeps the bars intact; a ``log`` of your own should
        write through it too while bars are shown).
    config
        A JSON-ready dict describing the run (e.g. ``experiments.Config.to_dict()``), stored in
        every checkpoint so that a resumed run can be checked against it.
    on_step
        Called as ``on_step(step)`` after each optimizer step (after the Monitor's ``on_step``):
        per-step measurements of one's own, such as the coordinate check's.

    The data is checked once, at the start, for NaN/inf (:func:`~.divergence.count_nonfinite`):
    when training then stops on a non-finite loss or gradient in a batch holding such values, the
    message says "the data holds NaN/inf" with the counts instead of blaming the learning rate.
    Test data holding NaN/inf is not scored (:func:`evaluate` warns; ``test_loss`` is NaN,
    ``test_accuracy`` None) and the epoch line says so.

    Raises
    ------
    ValueError
        For bad sizes, mismatched data, an unknown ``on_divergence``, or a checkpoint that does not
        fit (nothing is changed then).
    DivergenceError
        On divergence with ``on_divergence="raise"``.
    """
    x_train, y_train = _arrays(train_data, "train_data")
    test = _arrays(test_data, "test_data") if test_data is not None else None
    epochs = check_int("fit", "epochs", epochs, minimum=0)
    batch_size = check_int("fit", "batch_size", batch_size, minimum=1)
    if on_step is not None and not callable(on_step):
        raise TypeError(f"fit: on_step must be a callable on_step(step) or None, got {on_step!r}")
    if on_divergence not in ("stop", "raise"):
        raise ValueError(f"fit: on_divergence must be 'stop' or 'raise', got {on_divergence!r}")
    if not explode_factor > 1:
        raise ValueError(f"fit: explode_factor must be > 1, got {explode_factor!r}")
    loss_fn = loss or cross_entropy
    dtype = _param_dtype(model)
    x_train = _as_input(x_train, dtype)
    emit = _emitter(verbose, log)
    train_bad = count_nonfinite(x_train, y_train)
    test_bad = count_nonfinite(*test, x_dtype=dtype) if test is not None else None

    result = FitResult(monitor=monitor)
    start_epoch, step = 0, 0
    seed = int(as_generator(rng).integers(2**62)) if resume is None else None
    if resume is not None:
        ckpt = resume_checkpoint(resume, model, optimizer, scheduler)
        start_epoch, step, seed = ckpt.epoch, ckpt.step, ckpt.seed
        result.history, result.step_losses, result.steps = ckpt.history, ckpt.step_losses, step
        if monitor is not None and hasattr(monitor, "rebase"):
            monitor.rebase()
    assert seed is not None

    tracker = GradTracker(model, blowup=explode_factor)
    guard = Guard(explode_factor)
    started = time.perf_counter()
    epoch_bar = tqdm(
        total=epochs, initial=min(start_epoch, epochs), desc="epochs", unit="epoch",
        disable=not progress, file=sys.stderr, dynamic_ncols=True,
    )  # fmt: skip
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            epoch_start = time.perf_counter()
            rng_e = np.random.default_rng([seed, epoch])
            loader = DataLoader(x_train, y_train, batch_size, shuffle=True, rng=rng_e)
            model.train()
            running = _Running()
            batch_bar = tqdm(
                total=len(loader), desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False,
                disable=not progress, file=sys.stderr, dynamic_ncols=True,
            )  # fmt: skip
            refresh = max(1, len(loader) // 50)
            try:
                for batch, (xb, yb) in enumerate(loader, start=1):
                    step += 1
                    out = model(Tensor(_as_input(np.asarray(xb), dtype)))
                    loss_t = loss_fn(out, yb)
                    value = float(loss_t.data)
                    optimizer.zero_grad()
                    reason = guard.check_loss(value, step)
                    if reason in (None, "exploding loss"):  # finite: its gradients say where
                        loss_t.backward()
                        finite = tracker.add(step)
                        reason = reason or guard.check_gradients(finite)
                    if reason is not None:
                        result.divergence = diverged(
                            reason, value, step, epoch, batch, guard, tracker, optimizer,
                            in_batch=count_nonfinite(xb, yb) if train_bad else None,
                            in_data=train_bad,
                        )  # fmt: skip
                        result.diverged = True
                        break
                    optimizer.step()
                    result.steps = step
                    result.step_losses.append(value)
                    if monitor is not None:
                        monitor.on_step(step)
                    if on_step is not None:
                        on_step(step)
                    running.add(value, out.data, np.asarray(yb))
                    batch_bar.update(1)
                    if progress and batch % refresh == 0:
                        batch_bar.set_postfix_str(running.text(), refresh=False)
            finally:
                batch_bar.close()
            if result.diverged:
                break
            if scheduler is not None:
                scheduler.step()
            entry = _epoch_entry(
                model, optimizer, test, loss_fn, eval_batch_size, epoch, step, running,
                time.perf_counter() - epoch_start,
            )  # fmt: skip
            result.history.append(entry)
            emit(_epoch_line(entry, epochs, test_bad))
            epoch_bar.update(1)
            if checkpoint is not None:
                save_checkpoint(
                    checkpoint, model, optimizer, scheduler, epoch, step, seed, result.history,
                    result.step_losses, config,
                )  # fmt: skip
    finally:
        epoch_bar.close()
    result.seconds = time.perf_counter() - started
    if result.divergence is not None:
        emit(result.divergence.message)
        if on_divergence == "raise":
            raise DivergenceError(result.divergence, result)
    return result


def _epoch_entry(
    model: Any, optimizer: Any, test: tuple[np.ndarray, np.ndarray] | None, loss_fn: Any,
    eval_batch_size: int, epoch: int, step: int, running: _Running, seconds_so_far: float,
) -> dict[str, Any]:  # fmt: skip
    began = time.perf_counter()
    test_loss = test_acc = None
    if test is not None:
        test_loss, test_acc = evaluate(
            model, test[0], test[1], batch_size=eval_batch_size, loss=loss_fn
        )
    lrs = learning_rates(optimizer)
    return {
        "epoch": epoch,
        "step": step,
        "train_loss": running.loss(),
        "train_accuracy": running.accuracy(),
        "test_loss": test_loss,
        "test_accuracy": test_acc,
        "lr": lrs[0] if lrs else None,
        "seconds": seconds_so_far + time.perf_counter() - began,
    }


def _epoch_line(entry: dict[str, Any], epochs: int, test_bad: NonFinite | None = None) -> str:
    width = len(str(epochs))
    parts = [f"epoch {entry['epoch']:>{width}}/{epochs}", f"train loss {entry['train_loss']:.4f}"]
    if entry["train_accuracy"] is not None:
        parts.append(f"acc {100 * entry['train_accuracy']:5.2f}%")
    if test_bad:
        parts.append(f"test not scored (the test data holds {test_bad.text()})")
    elif entry["test_loss"] is not None:
        parts.append(f"test loss {entry['test_loss']:.4f}")
    if entry["test_accuracy"] is not None:
        parts.append(f"acc {100 * entry['test_accuracy']:5.2f}%")
    if entry["lr"] is not None:
        parts.append(f"lr {entry['lr']:.3g}")
    parts.append(f"{entry['seconds']:.1f} s")
    return "  ".join(parts)


def _emitter(verbose: bool, log: Callable[[str], None] | None) -> Callable[[str], None]:
    if not verbose:
        return lambda line: None
    return log if log is not None else write_line
