"""The one function that performs a training run (:func:`run`), what it returns
(:class:`ExperimentResult`) and its closing line (:func:`summary`). ``examples/train.py``, the sweep and
every study train through :func:`run`."""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import init as tinit
from .._files import json_ready
from .._text import plural
from ..diagnostics import Monitor
from ..random import manual_seed
from ..training import (
    Checkpoint,
    check_config,
    fit,
    read_checkpoint,
    validate_checkpoint,
    write_line,
)
from .architectures import needs_images
from .build import Dataset, build_model, load_dataset, make_optimizer
from .config import DEFAULT_LR, Config

__all__ = ["RESUME_FIELDS", "ExperimentResult", "check_resume", "run", "summary"]

#: the :class:`Config` fields a resumed run must share with the run that wrote its checkpoint
#: (``epochs`` may differ: resuming to train longer is the point; ``download`` and ``probe_size``
#: change nothing in the training)
RESUME_FIELDS = (
    "init", "bias_init", "activation", "depth", "width", "optimizer", "lr", "momentum",
    "batch_size", "data", "limit", "seed", "parametrization", "base_width", "arch", "residual", "norm",
)  # fmt: skip


@dataclass
class ExperimentResult:
    """A finished (or stopped) run: its config, dataset, fit result, monitor, model, timings, the
    parameters it started from and its optimizer."""

    config: Config
    dataset: Dataset
    fit: Any
    monitor: Any
    model: Any
    seconds: dict[str, float] = field(default_factory=dict)
    #: the parameters the run started from, by dotted name (copies): right after initialization,
    #: or as loaded from the checkpoint of a resumed run
    initial_state: dict[str, np.ndarray] = field(default_factory=dict)
    #: the optimizer after the last step (its param groups carry any parametrization's lr_mult)
    optimizer: Any = None

    @property
    def diverged(self) -> bool:
        """True when training stopped on divergence."""
        return bool(self.fit.diverged)

    def report(self, wide: bool = False) -> str:
        """The per-layer diagnostics table of the last record and the plain-words findings;
        ``wide`` shows every column of the table (default: the columns that fit 100 characters)."""
        return self.monitor.report(wide=wide)

    def to_dict(self, updates: bool = False) -> dict[str, Any]:
        """JSON-ready summary of the run.

        Keys: config, data sizes, the fit result (per-epoch history, divergence), final
        accuracies, the findings, and the monitor's records (with per-step update ratios only if
        ``updates``).
        """
        last = self.fit.history[-1] if self.fit.history else {}
        d = self.dataset
        return json_ready(
            {
                "config": self.config.to_dict(),
                "data": {
                    "name": d.name,
                    "n_train": len(d.x_train),
                    "n_test": len(d.x_test),
                    "in_features": d.in_features,
                    "n_classes": d.n_classes,
                },
                "fit": self.fit.to_dict(),
                "test_accuracy": last.get("test_accuracy"),
                "test_loss": last.get("test_loss"),
                "train_loss": last.get("train_loss"),
                "diverged": self.diverged,
                "message": self.fit.message,
                "findings": self.monitor.to_dict(updates=False)["findings"],
                "monitor": self.monitor.to_dict(updates=updates),
                "seconds": self.seconds,
            }
        )


def summary(result: ExperimentResult) -> str:
    """The closing line of a run: final test accuracy and times, or where it diverged."""
    t = result.seconds
    times = f"data {t['data']:.1f} s, training {t['train']:.1f} s, total {t['total']:.1f} s"
    if result.diverged:
        d = result.fit.divergence
        return f"stopped: training diverged at step {d.step} ({d.reason}); {times}"
    last = result.fit.history[-1] if result.fit.history else None
    if last is None:
        return f"no epoch trained; {times}"
    if last["test_accuracy"] is None:
        loss = last["test_loss"]
        why = (
            "the test data holds NaN/inf values"
            if loss is not None and math.isnan(loss)
            else "its outputs are not class scores"
        )
        return (
            f"{plural(last['epoch'], 'epoch')} trained; test accuracy not measured ({why}); {times}"
        )
    return (
        f"test accuracy {100 * last['test_accuracy']:.2f}% after {plural(last['epoch'], 'epoch')} "
        f"(test loss {last['test_loss']:.4f}); {times}"
    )


def _effective(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config dict with the optimizer defaults a None ``lr``/``momentum`` stands for filled in, so
    ``--lr 0.02`` and the SGD default compare equal (and ``arch`` "mlp" where it is missing)."""
    out = dict(config)
    out.setdefault("arch", "mlp")  # checkpoints written before architectures existed were MLPs
    out.setdefault("residual", None)
    out.setdefault("norm", None)  # nor normalization layers before norm existed
    name = out.get("optimizer")
    if out.get("lr") is None and name in DEFAULT_LR:
        out["lr"] = DEFAULT_LR[name]
    if out.get("momentum") is None:
        out["momentum"] = 0.9 if name == "sgd" else 0.0
    return out


def check_resume(
    config: Config, resume: str | os.PathLike[str] | Checkpoint, *, force: bool = False
) -> tuple[Checkpoint, str | None]:
    """Read the checkpoint ``resume`` and check that it was written by a run of ``config``.

    The :data:`RESUME_FIELDS` are compared (``lr`` and ``momentum`` with the optimizer's defaults
    filled in); ``epochs`` may differ. Returns ``(checkpoint, warning)``: ``warning`` is None when
    the configurations agree, else (only with ``force=True``) the one-line description of every
    mismatch, for the caller to show.

    Raises
    ------
    tinynet.training.ConfigMismatchError
        (a ``ValueError``) naming each differing field with both values, or saying that the
        checkpoint stores no configuration (an older format), unless ``force``.
    ValueError, FileNotFoundError
        If ``resume`` is not a checkpoint written by ``fit``.
    """
    ckpt = resume if isinstance(resume, Checkpoint) else read_checkpoint(resume)
    view = ckpt if ckpt.config is None else replace(ckpt, config=_effective(ckpt.config))
    problem = check_config(view, _effective(config.to_dict()), RESUME_FIELDS, force=force)
    return ckpt, (None if problem is None else problem.describe())


def run(
    config: Config,
    *,
    dataset: Dataset | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    quiet: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    force: bool = False,
    record_every: int | None = None,
    record_final: bool = False,
    bins: int = 50,
    on_step: Callable[[int, Any], None] | None = None,
) -> ExperimentResult:
    """The one training run: load the data, build and initialize the network, train it with a Monitor.

    Every example, sweep and study that trains goes through here. The run seeds the default
    Generator with ``config.seed`` (dropout and anything else drawing from it), builds
    :func:`~.architectures.build_model` of ``config.arch`` (NHWC images for the convolutional ones;
    weights from ``config.init``, one stream per parameter from the seed), the
    optimizer of :func:`make_optimizer`, a :class:`tinynet.diagnostics.Monitor` on the first
    ``config.probe_size`` training examples, and calls :func:`tinynet.training.fit` (shuffling seeded by
    ``config.seed``; ``config.to_dict()`` is stored in every checkpoint).

    Resuming, the checkpoint is read and its configuration checked first (:func:`check_resume`,
    before any data is loaded); once the model and optimizer are built, the whole checkpoint is
    validated against them (:func:`tinynet.training.validate_checkpoint`: model shapes, optimizer
    kind and state) before its weights are loaded, so a checkpoint that does not fit raises
    ``ValueError`` with nothing loaded. The weights are loaded before the Monitor takes its first
    record, so that record (at the checkpoint's step) describes the loaded weights; ``fit`` then
    restores the optimizer, scheduler and random state (transactionally, from the same
    checkpoint object) and continues bit-identically.

    Parameters
    ----------
    dataset
        Skip loading: train on this :class:`Dataset`.
    progress, log
        tqdm bars, and where each printed line goes (default:
        :func:`tinynet.training.write_line` to stdout, which keeps the bars intact).
    quiet
        No bars and no printed lines at all (sweeps and studies).
    checkpoint, resume
        As in :func:`tinynet.training.fit`.
    force
        Resume even from a checkpoint of another configuration (or one storing none): a line
        ``"warning: ..."`` naming every mismatch goes to ``log`` (a ``UserWarning`` when quiet).
    record_every
        Monitor records every ``record_every`` optimizer steps; None: once per epoch; 0: only at
        initialization (or at the resumed step).
    record_final
        Also record the state after the last step when no record was taken there.
    bins
        Histogram bins per module and record (1 when nobody draws the histograms).
    on_step
        Called as ``on_step(step, model)`` after each optimizer step (a study's own per-step
        measurement: the coordinate check's mean ``|x|`` per layer).

    Raises
    ------
    ValueError
        For an invalid configuration (unknown names, bad sizes), data that cannot be loaded, or a
        checkpoint that does not fit (:class:`tinynet.training.ConfigMismatchError` for another
        configuration, unless ``force``).
    """
    began = time.perf_counter()
    emit = (lambda line: None) if quiet else (log or write_line)
    ckpt = None
    if resume is not None:
        ckpt, warning = check_resume(config, resume, force=force)
        if warning is not None and quiet:
            warnings.warn(f"run: {warning}; resuming anyway (force=True)", stacklevel=2)
        elif warning is not None:
            emit(f"warning: {warning}; continuing from its weights anyway (forced)")
    manual_seed(config.seed)
    data = dataset if dataset is not None else load_dataset(config.data, config.limit, config.download)
    probe = slice(0, min(config.probe_size, len(data.x_train)))
    if needs_images(config.arch):
        data = data.as_images()
    model = build_model(
        config.arch, data.in_shape, data.n_classes, config.depth, config.width, config.activation,
        config.init, config.bias_init, rng=config.seed, data=data.x_train[probe], residual=config.residual,
        norm=config.norm,
    )  # fmt: skip
    params: Any = model.parameters()
    if config.parametrization is not None:  # re-initializes the weights; per-layer lr_mult groups
        table = "sgd" if config.optimizer == "sgd" else "adam"
        base = config.base_width if config.base_width is not None else config.width
        params = tinit.parametrize(model, config.parametrization, base, optimizer=table, rng=config.seed)
    optimizer = make_optimizer(config.optimizer, params, config.lr, config.momentum)
    if ckpt is not None:
        validate_checkpoint(ckpt, model, optimizer)  # everything, before anything is loaded
        model.load_state_dict(ckpt.model_state)
    initial_state = {name: p.data.copy() for name, p in model.named_parameters()}
    every = math.ceil(len(data.x_train) / config.batch_size) if record_every is None else record_every
    monitor = Monitor(
        model, data.x_train[probe], data.y_train[probe], every=every, bins=bins, record_init=ckpt is None
    )
    if ckpt is not None:
        monitor.step = ckpt.step
        monitor.record(ckpt.step)
    trained = time.perf_counter()
    result = fit(
        model, optimizer, (data.x_train, data.y_train), (data.x_test, data.y_test),
        epochs=config.epochs, batch_size=config.batch_size, monitor=monitor,
        progress=progress and not quiet, verbose=not quiet, log=log, checkpoint=checkpoint,
        resume=ckpt, rng=config.seed, config=config.to_dict(),
        on_step=None if on_step is None else (lambda step: on_step(step, model)),
    )  # fmt: skip
    if record_final and monitor.history[-1]["step"] != result.steps:
        monitor.record(result.steps)
    done = time.perf_counter()
    monitor.remove()
    setup = trained - began - (0.0 if dataset is not None else data.seconds)
    seconds = {
        "data": data.seconds,
        "setup": setup,
        "train": done - trained,
        "total": data.seconds + setup + done - trained,
    }
    return ExperimentResult(config, data, result, monitor, model, seconds, initial_state, optimizer)
