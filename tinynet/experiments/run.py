"""The one function that performs a training run (:func:`run`), what it returns
(:class:`ExperimentResult`) and its closing line (:func:`summary`). ``examples/train.py``, the sweep and
every study train through :func:`run`."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._files import json_ready
from .._text import plural
from ..diagnostics import Monitor
from ..random import manual_seed
from ..training import fit
from .build import Dataset, build_mlp, load_dataset, make_optimizer
from .config import Config

__all__ = ["ExperimentResult", "run", "summary"]


@dataclass
class ExperimentResult:
    """A finished (or stopped) run: its config, dataset, fit result, monitor, model, timings and the
    parameters it started from."""

    config: Config
    dataset: Dataset
    fit: Any
    monitor: Any
    model: Any
    seconds: dict[str, float] = field(default_factory=dict)
    #: the parameters right after initialization, by dotted name (copies)
    initial_state: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        """True when training stopped on divergence."""
        return bool(self.fit.diverged)

    def report(self) -> str:
        """The per-layer diagnostics table of the last record and the plain-words findings."""
        return self.monitor.report()

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
    if last is None or last["test_accuracy"] is None:
        return f"no epoch trained; {times}"
    return (
        f"test accuracy {100 * last['test_accuracy']:.2f}% after {plural(last['epoch'], 'epoch')} "
        f"(test loss {last['test_loss']:.4f}); {times}"
    )


def run(
    config: Config,
    *,
    dataset: Dataset | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    quiet: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    record_every: int | None = None,
    record_final: bool = False,
    bins: int = 50,
) -> ExperimentResult:
    """The one training run: load the data, build and initialize the MLP, train it with a Monitor.

    Every example, sweep and study that trains goes through here. The run seeds the default
    Generator with ``config.seed`` (dropout and anything else drawing from it), builds
    :func:`build_mlp` (weights from ``config.init``, one stream per parameter from the seed), the
    optimizer of :func:`make_optimizer`, a :class:`tinynet.diagnostics.Monitor` on the first
    ``config.probe_size`` training examples, and calls :func:`tinynet.training.fit` (shuffling seeded by
    ``config.seed``).

    Parameters
    ----------
    dataset
        Skip loading: train on this :class:`Dataset`.
    progress, log
        tqdm bars, and where each printed line goes (default: stdout).
    quiet
        No bars and no printed lines at all (sweeps and studies).
    checkpoint, resume
        As in :func:`tinynet.training.fit`.
    record_every
        Monitor records every ``record_every`` optimizer steps; None: once per epoch; 0: only at
        initialization.
    record_final
        Also record the state after the last step when no record was taken there.
    bins
        Histogram bins per module and record (1 when nobody draws the histograms).

    Raises
    ------
    ValueError
        For an invalid configuration (unknown names, bad sizes) or data that cannot be loaded.
    """
    began = time.perf_counter()
    manual_seed(config.seed)
    data = dataset if dataset is not None else load_dataset(config.data, config.limit, config.download)
    probe = slice(0, min(config.probe_size, len(data.x_train)))
    model = build_mlp(
        data.in_features, data.n_classes, config.depth, config.width, config.activation,
        config.init, config.bias_init, rng=config.seed, data=data.x_train[probe],
    )  # fmt: skip
    initial_state = {name: p.data.copy() for name, p in model.named_parameters()}
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)
    every = math.ceil(len(data.x_train) / config.batch_size) if record_every is None else record_every
    monitor = Monitor(model, data.x_train[probe], data.y_train[probe], every=every, bins=bins)
    trained = time.perf_counter()
    result = fit(
        model, optimizer, (data.x_train, data.y_train), (data.x_test, data.y_test),
        epochs=config.epochs, batch_size=config.batch_size, monitor=monitor,
        progress=progress and not quiet, verbose=not quiet, log=log, checkpoint=checkpoint,
        resume=resume, rng=config.seed,
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
    return ExperimentResult(config, data, result, monitor, model, seconds, initial_state)
