"""One training experiment, end to end: data, an MLP built from (depth, width, activation, init), an
optimizer, :func:`tinynet.training.fit` with a :class:`tinynet.diagnostics.Monitor`, and the report.

``examples/train.py`` is a thin command-line face over :func:`run`; the comparison examples reuse
:func:`build_mlp`, :func:`load_dataset` and :func:`run` too.
"""

from __future__ import annotations

import difflib
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "OPTIMIZERS",
    "Config",
    "ConfigError",
    "Dataset",
    "ExperimentResult",
    "build_mlp",
    "closest",
    "describe",
    "load_dataset",
    "make_activation",
    "make_optimizer",
    "run",
    "summary",
    "unknown_choice",
    "validate",
]

#: ``--activation`` names → ``tinynet.nn`` class names
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "selu": "SELU",
    "gelu": "GELU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "softplus": "Softplus",
    "identity": "Identity",
}
#: ``--optimizer`` names → ``tinynet.optim`` class names
OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
}
#: default learning rate per optimizer (SGD's assumes momentum 0.9)
DEFAULT_LR: dict[str, float] = {
    "sgd": 0.02,
    "adam": 1e-3,
    "adamw": 1e-3,
    "rmsprop": 1e-3,
    "adagrad": 1e-2,
}
#: named datasets; anything else is a path (a folder of IDX files or an .npz)
DATASETS = ("synthetic", "mnist", "fashion", "kmnist")
#: size of the built-in synthetic set used by default (MNIST's split)
SYNTHETIC_TRAIN, SYNTHETIC_TEST = 60_000, 10_000


def closest(value: str, valid: list[str] | tuple[str, ...]) -> str | None:
    """The valid name most similar to ``value`` (difflib ratio >= 0.5), or None."""
    lowered = {v.lower(): v for v in valid}
    match = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


def unknown_choice(what: str, value: Any, valid: list[str] | tuple[str, ...]) -> ValueError:
    """A ValueError saying ``value`` is no valid ``what``; lists the valid names and the closest."""
    hint = closest(str(value), valid)
    text = f"unknown {what} {value!r}; valid: {', '.join(valid)}"
    if hint is not None:
        text += f" (closest match: {hint!r})"
    return ValueError(text)


# ------------------------------------------------------------------------------------------ model
def make_activation(name: str) -> Any:
    """A new ``nn`` activation module from its name in :data:`ACTIVATIONS`.

    Raises
    ------
    ValueError
        For an unknown name (listing the valid ones and the closest match).
    """
    from . import nn

    if name not in ACTIVATIONS:
        raise unknown_choice("activation", name, tuple(ACTIVATIONS))
    return getattr(nn, ACTIVATIONS[name])()


def build_mlp(
    in_features: int,
    n_classes: int,
    depth: int = 2,
    width: int = 256,
    activation: str = "relu",
    init: Any = "xavier",
    bias_init: Any = "zeros",
    rng: np.random.Generator | int | None = None,
    data: Any = None,
) -> Any:
    """An MLP: ``depth`` hidden blocks ``Linear(·, width), activation``, then ``Linear(·, n_classes)``.

    Every layer is then (re)initialized by ``tinynet.init.apply(model, weight=init, bias=bias_init,
    rng=rng, data=data)``: one random stream per parameter, derived from the seed and the
    parameter's name. ``data`` (a batch of inputs) is needed by data-dependent schemes such as
    ``"lsuv"``. ``depth=0`` gives a linear softmax classifier.

    Raises
    ------
    ValueError
        For a negative depth, a width or size below 1, an unknown activation or init spec, or a
        data-dependent init without ``data``.
    """
    from . import init as tinit
    from . import nn

    for name, value, low in (("in_features", in_features, 1), ("n_classes", n_classes, 1),
                             ("depth", depth, 0), ("width", width, 1)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"build_mlp: {name} must be an int >= {low}, got {value!r}")
    weight_spec = tinit.get(init)
    bias_spec = tinit.get(bias_init)
    if activation not in ACTIVATIONS:
        raise unknown_choice("activation", activation, tuple(ACTIVATIONS))
    modules: list[Any] = []
    fan_in = in_features
    for _ in range(depth):
        modules += [nn.Linear(fan_in, width), make_activation(activation)]
        fan_in = width
    modules.append(nn.Linear(fan_in, n_classes))
    model = nn.Sequential(*modules)
    if getattr(weight_spec, "data_dependent", False) and data is None:
        raise ValueError(f"build_mlp: init {weight_spec!r} is data-dependent; pass data=x_batch")
    tinit.apply(model, weight=weight_spec, bias=bias_spec, rng=rng, data=data)
    return model


def make_optimizer(
    name: str, params: Any, lr: float | None = None, momentum: float | None = None
) -> Any:
    """A ``tinynet.optim`` optimizer by name; ``lr=None`` takes :data:`DEFAULT_LR`.

    ``momentum`` applies to SGD (default 0.9) and RMSprop (default 0); for the others it must be
    None or 0.

    Raises
    ------
    ValueError
        For an unknown name, a non-positive learning rate, or momentum given to an optimizer without
        it.
    """
    from . import optim

    if name not in OPTIMIZERS:
        raise unknown_choice("optimizer", name, tuple(OPTIMIZERS))
    lr = DEFAULT_LR[name] if lr is None else float(lr)
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"make_optimizer: lr must be a positive number, got {lr}")
    cls = getattr(optim, OPTIMIZERS[name])
    if name == "sgd":
        return cls(params, lr=lr, momentum=0.9 if momentum is None else float(momentum))
    if name == "rmsprop":
        return cls(params, lr=lr, momentum=0.0 if momentum is None else float(momentum))
    if momentum not in (None, 0, 0.0):
        raise ValueError(
            f"make_optimizer: {name} takes no momentum (got {momentum}); use sgd or rmsprop"
        )
    return cls(params, lr=lr)


# ------------------------------------------------------------------------------------------ data
@dataclass
class Dataset:
    """Flattened, standardized float32 inputs and int64 labels, with where they came from."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    seconds: float = 0.0

    @property
    def n_classes(self) -> int:
        """``max(label) + 1`` over both splits."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def in_features(self) -> int:
        """Number of input features per example."""
        return int(self.x_train.shape[1])


def _prepare(x: np.ndarray) -> np.ndarray:
    from . import data

    flat = data.flatten(x)
    return data.scale(flat) if flat.dtype == np.uint8 else flat.astype(np.float32)


def load_dataset(
    name: str = "synthetic",
    limit: int | None = None,
    download: bool = False,
    seed: int = 0,
) -> Dataset:
    """Load and prepare ``"synthetic"``, ``"mnist"``, ``"fashion"``, ``"kmnist"`` or a path.

    Images are flattened to ``(N, H·W)``, scaled to [0, 1] (uint8 / 255), then standardized with the
    mean and std of the *training* split: ``x ← (x - μ_train) / σ_train`` (one scalar each), so
    every input feature has roughly unit variance as the variance-scaling schemes assume. The
    synthetic set is generated (and cached under ``$TINYNET_CACHE``) with
    :data:`SYNTHETIC_TRAIN`/:data:`SYNTHETIC_TEST` examples, or ``limit`` of each when smaller.
    ``limit`` keeps the first ``limit`` examples of each split.

    Raises
    ------
    ValueError
        For ``limit < 1`` or data that cannot be loaded (the data module's message).
    """
    from . import data

    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1
    ):
        raise ValueError(f"load_dataset: limit must be a positive int, got {limit!r}")
    began = time.perf_counter()
    if name == "synthetic":
        n_train = SYNTHETIC_TRAIN if limit is None else min(SYNTHETIC_TRAIN, int(limit))
        n_test = SYNTHETIC_TEST if limit is None else min(SYNTHETIC_TEST, int(limit))
        (x_tr, y_tr), (x_te, y_te) = data.synthetic_digits(
            n_train=n_train, n_test=n_test, seed=seed
        )
    elif name in DATASETS:
        (x_tr, y_tr), (x_te, y_te) = data.load_mnist(kind=name, download=download)
    else:
        (x_tr, y_tr), (x_te, y_te) = data.load(os.fspath(name))
    if limit is not None:
        x_tr, y_tr, x_te, y_te = x_tr[:limit], y_tr[:limit], x_te[:limit], y_te[:limit]
    x_tr, x_te = _prepare(np.asarray(x_tr)), _prepare(np.asarray(x_te))
    # data.standardize would do the same through float64 temporaries (376 MB for 60,000 images)
    mean = np.float32(x_tr.mean(dtype=np.float64))
    std = np.float32(x_tr.std(dtype=np.float64)) or np.float32(1.0)
    x_tr = (x_tr - mean) / std
    x_te = (x_te - mean) / std
    return Dataset(
        name=str(name),
        x_train=x_tr,
        y_train=np.asarray(y_tr).astype(np.int64),
        x_test=x_te,
        y_test=np.asarray(y_te).astype(np.int64),
        seconds=time.perf_counter() - began,
    )


# ------------------------------------------------------------------------------------------ run
@dataclass
class Config:
    """Everything that defines one run of ``examples/train.py`` (the command-line flags)."""

    init: str = "xavier"
    bias_init: str = "zeros"
    activation: str = "relu"
    depth: int = 2
    width: int = 256
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float | None = None
    batch_size: int = 64
    epochs: int = 3
    seed: int = 0
    data: str = "synthetic"
    download: bool = False
    limit: int | None = None
    probe_size: int = 512

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


class ConfigError(ValueError):
    """A bad :class:`Config` field; ``field`` names it (``"init"``, ``"batch_size"``, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


def validate(config: Config) -> Config:
    """Check every field of ``config`` before anything is loaded or built; returns it unchanged.

    Init specs go through ``tinynet.init.get`` (whose message lists the valid names and the closest
    match); activation, optimizer and data names are checked against :data:`ACTIVATIONS`,
    :data:`OPTIMIZERS` and :data:`DATASETS` (or an existing path); sizes must be in range.

    Raises
    ------
    ConfigError
        For the first bad field, naming it.
    """
    from . import init as tinit

    for name in ("init", "bias_init"):
        try:
            tinit.get(getattr(config, name))
        except (ValueError, TypeError) as error:
            raise ConfigError(name, str(error)) from None
    checks = (
        ("activation", config.activation, tuple(ACTIVATIONS)),
        ("optimizer", config.optimizer, tuple(OPTIMIZERS)),
    )
    for name, value, valid in checks:
        if value not in valid:
            raise ConfigError(name, str(unknown_choice(name, value, valid)))
    if config.data not in DATASETS and not os.path.exists(config.data):
        hint = closest(config.data, DATASETS)
        text = f"{config.data!r} is neither one of {', '.join(DATASETS)} nor an existing path"
        raise ConfigError("data", text + (f" (closest match: {hint!r})" if hint else ""))
    for name, low in (("depth", 0), ("width", 1), ("batch_size", 1), ("epochs", 0),
                      ("probe_size", 1), ("limit", 1)):  # fmt: skip
        value = getattr(config, name)
        if value is None and name == "limit":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(name, f"must be an int >= {low}, got {value!r}")
    if config.lr is not None and not (math.isfinite(config.lr) and config.lr > 0):
        raise ConfigError("lr", f"must be a positive number, got {config.lr!r}")
    if config.momentum is not None:
        if not 0 <= config.momentum < 1:
            raise ConfigError("momentum", f"must be in [0, 1), got {config.momentum!r}")
        if config.momentum and config.optimizer not in ("sgd", "rmsprop"):
            text = f"{config.optimizer} takes no momentum; use sgd or rmsprop"
            raise ConfigError("momentum", text)
    return config


def describe(config: Config, dataset: Dataset | None = None) -> str:
    """One line naming the network, init, optimizer and schedule of a run."""
    sizes = [str(dataset.in_features) if dataset else "in"]
    sizes += [str(config.width)] * config.depth
    sizes.append(str(dataset.n_classes) if dataset else "C")
    lr = DEFAULT_LR.get(config.optimizer) if config.lr is None else config.lr
    opt = f"{config.optimizer} lr {lr:g}"
    if config.optimizer in ("sgd", "rmsprop"):
        default = 0.9 if config.optimizer == "sgd" else 0.0
        opt += f" momentum {default if config.momentum is None else config.momentum:g}"
    return (
        f"MLP {'-'.join(sizes)} ({config.activation}), init {config.init} "
        f"(bias {config.bias_init}), {opt}, batch {config.batch_size}, {_plural(config.epochs, 'epoch')}, "
        f"seed {config.seed}"
    )


@dataclass
class ExperimentResult:
    """A finished (or stopped) run: its config, dataset summary, fit result, monitor and timings."""

    config: Config
    dataset: Dataset
    fit: Any
    monitor: Any
    model: Any
    seconds: dict[str, float] = field(default_factory=dict)

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
        from .diagnostics import json_ready

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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


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
        f"test accuracy {100 * last['test_accuracy']:.2f}% after {_plural(last['epoch'], 'epoch')} "
        f"(test loss {last['test_loss']:.4f}); {times}"
    )


def run(
    config: Config,
    *,
    progress: bool = True,
    log: Any = None,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    dataset: Dataset | None = None,
) -> ExperimentResult:
    """Load the data, build and initialize the MLP, and train it with a Monitor attached.

    The Monitor probes the first ``config.probe_size`` training examples at initialization and after
    every epoch. ``log`` receives each printed line (default: stdout). ``dataset`` skips loading.

    Raises
    ------
    ValueError
        For an invalid configuration (unknown names, bad sizes) or data that cannot be loaded.
    """
    from .diagnostics import Monitor
    from .random import manual_seed
    from .training import fit

    began = time.perf_counter()
    manual_seed(config.seed)  # dropout and anything else drawing from the default Generator
    data = (
        dataset if dataset is not None else load_dataset(config.data, config.limit, config.download)
    )
    probe = slice(0, min(config.probe_size, len(data.x_train)))
    model = build_mlp(
        data.in_features, data.n_classes, config.depth, config.width, config.activation,
        config.init, config.bias_init, rng=config.seed, data=data.x_train[probe],
    )  # fmt: skip
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)
    steps_per_epoch = math.ceil(len(data.x_train) / config.batch_size)
    monitor = Monitor(model, data.x_train[probe], data.y_train[probe], every=steps_per_epoch)
    trained = time.perf_counter()
    result = fit(
        model, optimizer, (data.x_train, data.y_train), (data.x_test, data.y_test),
        epochs=config.epochs, batch_size=config.batch_size, monitor=monitor, progress=progress,
        checkpoint=checkpoint, resume=resume, rng=config.seed, log=log,
    )  # fmt: skip
    done = time.perf_counter()
    monitor.remove()
    setup = trained - began - (0.0 if dataset is not None else data.seconds)
    seconds = {
        "data": data.seconds,
        "setup": setup,
        "train": done - trained,
        "total": data.seconds + setup + done - trained,
    }
    return ExperimentResult(config, data, result, monitor, model, seconds)
