"""The studies behind ``docs/experiments.md``: what the initialization papers claim, measured.

- :func:`symmetry_study`: zero, constant and random weights; distinct units per layer over training
  steps, exactly-zero hidden weight gradients under zero init, which parameters learn at all.
- :func:`signal_profile` / :func:`depth_study`: activation std, saturation, dead units and weight
  gradient norm per layer of a deep MLP at initialization (Glorot & Bengio 2010; He et al. 2015;
  Klambauer et al. 2017).
- :func:`trainability`: train a deep ReLU MLP with plain SGD under several schemes (He et al. 2015).
- :func:`activation_dynamics`: mean and std of each hidden activation over training steps (Glorot &
  Bengio 2010, fig. 2: the top sigmoid layer saturating at 0).
- :func:`input_output_jacobian`, :func:`jacobian_study`: singular values and condition number of a
  network's input-output Jacobian (Saxe et al. 2014: orthogonal deep linear networks are perfectly
  conditioned).

Every function returns plain, JSON-ready dicts. ``examples/symmetry.py`` and
``examples/depth_sweep.py`` are their command-line faces; ``tests/test_studies.py`` checks each
claim on a small configuration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .experiment import Dataset, build_mlp, load_dataset, make_optimizer

__all__ = [
    "DEPTH_ACTIVATIONS",
    "DEPTH_INITS",
    "SYMMETRY_INITS",
    "TRAINABILITY_SCHEMES",
    "activation_dynamics",
    "condition_number",
    "deep_linear",
    "depth_study",
    "input_output_jacobian",
    "jacobian_study",
    "resolve_scheme",
    "signal_profile",
    "std_ratio",
    "symmetry_study",
    "trainability",
]

#: the symmetry study's default schemes: zero, constant and one random
SYMMETRY_INITS = ("zeros", "constant(value=0.05)", "he")
#: activations of the depth study (Glorot & Bengio: sigmoid, tanh; He: ReLU; Klambauer: SELU)
DEPTH_ACTIVATIONS = ("sigmoid", "tanh", "relu", "selu")
#: schemes of the depth study; ``default`` is PyTorch's weight init U(±1/√fan_in) with zero biases
#: (the "standard" init of Glorot & Bengio), ``pytorch`` the preset with PyTorch's bias init too
DEPTH_INITS = (
    "default", "pytorch", "xavier", "he", "lecun", "orthogonal", "lsuv", "normal(std=1.0)",
)  # fmt: skip
#: schemes of the trainability study; ``pytorch`` is the preset (weight and bias as PyTorch does)
TRAINABILITY_SCHEMES = ("he", "xavier", "pytorch")


def _clean(value: Any) -> Any:
    from .diagnostics import json_ready

    return json_ready(value)


def resolve_scheme(name: str) -> tuple[str, str]:
    """``(weight spec, bias spec)`` of a scheme: a preset of :data:`tinynet.init.PRESETS`
    (``"pytorch"``, ``"keras"``, ``"flax"``) or any init spec with zero biases.

    Raises
    ------
    ValueError
        If ``name`` is neither a preset nor a valid init spec (the message lists the valid names).
    """
    from . import init as tinit

    if name in tinit.PRESETS:
        return tinit.PRESETS[name]
    tinit.get(name)
    return name, "zeros"


def _data(dataset: Dataset | None, limit: int, seed: int = 0) -> Dataset:
    return dataset if dataset is not None else load_dataset("synthetic", limit=limit, seed=seed)


# ------------------------------------------------------------------------------------ symmetry
def _train_with_monitor(
    model: Any,
    data: Dataset,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    batch_size: int,
    record_every: int,
    probe_size: int,
    seed: int,
) -> tuple[Any, Any]:
    """Plain SGD (with ``momentum``) under :func:`tinynet.training.fit` with a Monitor recording
    every ``record_every`` steps; returns ``(fit result, monitor)``."""
    from .diagnostics import Monitor
    from .training import fit

    probe = slice(0, min(probe_size, len(data.x_train)))
    # bins=1: the studies draw no histograms, so the Monitor need not bin every output finely
    monitor = Monitor(
        model, data.x_train[probe], data.y_train[probe], every=record_every, bins=1
    )
    optimizer = make_optimizer("sgd", model.parameters(), lr=lr, momentum=momentum)
    result = fit(
        model, optimizer, (data.x_train, data.y_train), (data.x_test, data.y_test),
        epochs=epochs, batch_size=batch_size, monitor=monitor, progress=False, verbose=False,
        rng=seed,
    )  # fmt: skip
    if monitor.history[-1]["step"] != result.steps:
        monitor.record(result.steps)  # the state after the last step, too
    monitor.remove()
    return result, monitor


def symmetry_study(
    inits: Sequence[str] = SYMMETRY_INITS,
    *,
    depth: int = 2,
    width: int = 64,
    activation: str = "relu",
    epochs: int = 3,
    limit: int = 5000,
    lr: float = 0.05,
    momentum: float = 0.9,
    batch_size: int = 64,
    record_every: int = 20,
    probe_size: int = 512,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> list[dict[str, Any]]:
    """Train one MLP per scheme and follow its symmetry over training steps.

    Zero or constant weights make every unit of a layer compute the same function, receive the same
    gradient, and stay identical: the layer has 1 distinct unit however long it trains. With all
    weights zero and ``act(0) = 0`` (ReLU, tanh), every weight gradient is exactly zero (the output
    layer sees zero inputs, the hidden layers receive ``dL/dh = dL/dz · W_outᵀ = 0``), so only the
    output bias learns and the network predicts the class prior.

    Returns
    -------
    list of dict
        One per scheme: ``init``, ``steps`` (record steps, 0 = initialization), ``units`` (per
        layer), ``distinct`` (per layer, the distinct-unit count at each record),
        ``weight_grad_norm``/``bias_grad_norm`` (per layer, at each record),
        ``hidden_grads_zero`` (every hidden weight gradient exactly 0 at every record), ``learned``
        (names of the parameters that changed at all), ``test_accuracy``, ``train_loss``,
        ``diverged``.

    Raises
    ------
    ValueError
        For an unknown init spec or activation, or bad sizes.
    """
    data = _data(dataset, limit, seed=0)
    out = []
    for spec in inits:
        model = build_mlp(
            data.in_features, data.n_classes, depth, width, activation, spec, rng=seed,
            data=data.x_train[:probe_size],
        )  # fmt: skip
        before = {name: p.data.copy() for name, p in model.named_parameters()}
        result, monitor = _train_with_monitor(
            model, data, epochs=epochs, lr=lr, momentum=momentum, batch_size=batch_size,
            record_every=record_every, probe_size=probe_size, seed=seed,
        )  # fmt: skip
        records = monitor.history
        n_layers = len(records[0]["layers"])
        learned = [
            name
            for name, p in model.named_parameters()
            if not np.array_equal(p.data, before[name])
        ]
        hidden_zero = all(
            r["layers"][i]["weight_grad_norm"] == 0.0 for r in records for i in range(n_layers - 1)
        )
        last = result.history[-1] if result.history else {}
        out.append(
            _clean(
                {
                    "init": spec,
                    "activation": activation,
                    "steps": [r["step"] for r in records],
                    "units": [row["units"] for row in records[0]["layers"]],
                    "distinct": [
                        [r["layers"][i]["distinct_units"] for r in records] for i in range(n_layers)
                    ],
                    "weight_grad_norm": [
                        [r["layers"][i]["weight_grad_norm"] for r in records]
                        for i in range(n_layers)
                    ],
                    "bias_grad_norm": [
                        [r["layers"][i]["bias_grad_norm"] for r in records] for i in range(n_layers)
                    ],
                    "hidden_grads_zero": hidden_zero,
                    "learned": learned,
                    "test_accuracy": last.get("test_accuracy"),
                    "train_loss": last.get("train_loss"),
                    "diverged": result.diverged,
                }
            )
        )
    return out


# ------------------------------------------------------------------------ signal propagation
def signal_profile(
    activation: str,
    init: str,
    depth: int,
    width: int,
    x: np.ndarray,
    y: np.ndarray,
    *,
    bias_init: str = "zeros",
    rng: int = 0,
) -> dict[str, Any]:
    """What a deep MLP does to a batch at initialization, layer by layer.

    Builds ``build_mlp(in, C, depth, width, activation, init, bias_init, rng)`` and takes one
    :class:`tinynet.diagnostics.Monitor` record on ``(x, y)`` (forward and cross-entropy backward).

    Returns
    -------
    dict
        ``activation``, ``init``, ``depth``, ``width``; per hidden layer ``k = 1..depth`` (lists of
        length ``depth``): ``act_mean``, ``act_std`` (of the activation output), ``pre_std`` (of the
        Linear output), ``saturated`` (tanh/sigmoid, else None), ``dead`` (ReLU family, else None),
        ``grad_std`` (std of dL/d activation); per layer including the output layer (length
        ``depth + 1``): ``weight_grad_norm``; and ``gradient_flow``, ``loss``, ``ln_classes``.
    """
    from .diagnostics import Monitor

    n_classes = int(np.max(y)) + 1
    model = build_mlp(
        x.shape[1], n_classes, depth, width, activation, init, bias_init, rng=rng, data=x
    )
    monitor = Monitor(model, x, y, bins=1)  # no histograms needed (see _train_with_monitor)
    record = monitor.history[0]
    monitor.remove()
    acts = {m["layer"]: m for m in record["modules"] if m["role"] == "activation"}
    pres = {m["layer"]: m for m in record["modules"] if m["role"] == "layer"}
    hidden = range(1, depth + 1)
    return _clean(
        {
            "activation": activation,
            "init": init,
            "bias_init": bias_init,
            "depth": depth,
            "width": width,
            "act_mean": [acts[k]["mean"] for k in hidden],
            "act_std": [acts[k]["std"] for k in hidden],
            "pre_std": [pres[k]["std"] for k in hidden],
            "saturated": [acts[k]["saturated"] for k in hidden],
            "dead": [acts[k]["dead"] for k in hidden],
            "grad_std": [acts[k]["grad_std"] for k in hidden],
            "weight_grad_norm": [row["weight_grad_norm"] for row in record["layers"]],
            "gradient_flow": record["gradient_flow"],
            "loss": record["loss"],
            "ln_classes": record["ln_classes"],
        }
    )


def std_ratio(profile: dict[str, Any], last: int | None = None, first: int = 1) -> float:
    """``act_std[last] / act_std[first]`` of a :func:`signal_profile` (layers numbered from 1;
    ``last=None`` is the deepest hidden layer). ``nan`` when the first std is 0 or missing."""
    stds = profile["act_std"]
    last = len(stds) if last is None else last
    if not 1 <= first <= last <= len(stds):
        raise ValueError(
            f"std_ratio: need 1 <= first <= last <= {len(stds)}, got first={first}, last={last}"
        )
    a, b = stds[first - 1], stds[last - 1]
    if a is None or b is None or not a > 0:
        return float("nan")
    return float(b / a)


def depth_study(
    activations: Sequence[str] = DEPTH_ACTIVATIONS,
    inits: Sequence[str] = DEPTH_INITS,
    *,
    depth: int = 32,
    width: int = 128,
    probe_size: int = 512,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> list[dict[str, Any]]:
    """:func:`signal_profile` of every (activation, scheme) pair on the same digits probe.

    Schemes may be presets (``"pytorch"``: PyTorch's weight *and* bias defaults); see
    :func:`resolve_scheme`. Returns the profiles, activation-major.
    """
    data = _data(dataset, probe_size)
    x, y = data.x_train[:probe_size], data.y_train[:probe_size]
    out = []
    for activation in activations:
        for name in inits:
            weight, bias = resolve_scheme(name)
            profile = signal_profile(activation, weight, depth, width, x, y, bias_init=bias, rng=seed)
            profile["scheme"] = name
            out.append(profile)
    return out


# ------------------------------------------------------------------------------ trainability
def trainability(
    schemes: Sequence[str] = TRAINABILITY_SCHEMES,
    *,
    depth: int = 30,
    width: int = 128,
    activation: str = "relu",
    epochs: int = 10,
    limit: int = 2000,
    lr: float = 0.01,
    batch_size: int = 64,
    probe_size: int = 512,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> list[dict[str, Any]]:
    """Train a deep MLP with plain SGD (no momentum) under each scheme (He et al. 2015, fig. 3).

    Each run is :func:`tinynet.sweep.train_config` of a :class:`~tinynet.experiment.Config` with
    ``optimizer="sgd", momentum=0``; ``limit`` training (and test) digits; the Monitor probes
    ``probe_size`` of them at initialization and at the end.

    Returns
    -------
    list of dict
        One per scheme: ``scheme``, ``init``, ``bias_init``, ``train_loss`` (mean training loss per
        epoch), ``final_loss``, ``ln_classes``, ``loss_ratio`` (``final_loss / ln C``),
        ``initial_loss`` (probe loss at step 0), ``gradient_flow`` (at step 0),
        ``test_accuracy``, ``diverged``, ``seconds``.
    """
    from .experiment import Config
    from .sweep import train_config

    data = _data(dataset, limit)
    out = []
    for name in schemes:
        weight, bias = resolve_scheme(name)
        config = Config(
            init=weight, bias_init=bias, activation=activation, depth=depth, width=width,
            optimizer="sgd", lr=lr, momentum=0.0, batch_size=batch_size, epochs=epochs, seed=seed,
            limit=limit, probe_size=probe_size,
        )  # fmt: skip
        result = train_config(config, data)
        first = result.monitor.history[0]
        losses = [h["train_loss"] for h in result.fit.history]
        final = losses[-1] if losses else float("nan")
        ln_c = math.log(data.n_classes)
        out.append(
            _clean(
                {
                    "scheme": name,
                    "init": weight,
                    "bias_init": bias,
                    "depth": depth,
                    "width": width,
                    "train_loss": losses,
                    "final_loss": final,
                    "ln_classes": ln_c,
                    "loss_ratio": final / ln_c,
                    "initial_loss": first["loss"],
                    "gradient_flow": first["gradient_flow"],
                    "test_accuracy": result.fit.history[-1]["test_accuracy"]
                    if result.fit.history
                    else None,
                    "diverged": result.diverged,
                    "seconds": result.seconds.get("train"),
                }
            )
        )
    return out


# ----------------------------------------------------------------------- activation dynamics
def activation_dynamics(
    init: str = "default",
    *,
    activation: str = "sigmoid",
    depth: int = 4,
    width: int = 256,
    epochs: int = 2,
    limit: int = 10000,
    lr: float = 0.1,
    momentum: float = 0.0,
    batch_size: int = 10,
    record_every: int = 50,
    probe_size: int = 300,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> dict[str, Any]:
    """Mean and std of each hidden activation on a fixed probe over training (Glorot & Bengio 2010,
    fig. 2).

    ``init`` may be a preset (see :func:`resolve_scheme`). With sigmoid units and the standard
    init ``U(±1/√fan_in)`` (``"default"``), the paper reports the top hidden layer driven to 0
    (saturated) early in training while the lower layers stay near 0.5.

    Returns
    -------
    dict
        ``init``, ``activation``, ``steps`` (record steps), ``mean`` and ``std`` (per hidden
        layer, one value per record), ``saturated`` (idem; tanh/sigmoid), ``test_accuracy``,
        ``train_loss``, ``diverged``.
    """
    data = _data(dataset, limit)
    weight, bias = resolve_scheme(init)
    model = build_mlp(
        data.in_features, data.n_classes, depth, width, activation, weight, bias, rng=seed,
        data=data.x_train[:probe_size],
    )  # fmt: skip
    result, monitor = _train_with_monitor(
        model, data, epochs=epochs, lr=lr, momentum=momentum, batch_size=batch_size,
        record_every=record_every, probe_size=probe_size, seed=seed,
    )  # fmt: skip

    def series(key: str) -> list[list[Any]]:
        rows = []
        for layer in range(1, depth + 1):
            rows.append(
                [
                    next(
                        m[key]
                        for m in r["modules"]
                        if m["role"] == "activation" and m["layer"] == layer
                    )
                    for r in monitor.history
                ]
            )
        return rows

    last = result.history[-1] if result.history else {}
    return _clean(
        {
            "init": init,
            "activation": activation,
            "depth": depth,
            "width": width,
            "steps": [r["step"] for r in monitor.history],
            "mean": series("mean"),
            "std": series("std"),
            "saturated": series("saturated"),
            "test_accuracy": last.get("test_accuracy"),
            "train_loss": last.get("train_loss"),
            "diverged": result.diverged,
        }
    )


# ---------------------------------------------------------------------------------- jacobian
def deep_linear(depth: int, width: int, init: str, rng: int = 0) -> Any:
    """A linear network ``x ↦ x W_1 ⋯ W_depth`` of ``depth`` square ``width × width`` layers with
    zero biases (``build_mlp`` with identity activations)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"deep_linear: depth must be an int >= 1, got {depth!r}")
    return build_mlp(width, width, depth - 1, width, "identity", init, "zeros", rng=rng)


def input_output_jacobian(model: Any, x: Any) -> np.ndarray:
    """The Jacobian ``J[k, i] = ∂ f(x)_k / ∂ x_i`` of a model at one input ``x`` of shape ``(n,)``.

    One backward pass: ``x`` is repeated once per output ``k`` into a batch ``X`` of shape
    ``(m, n)``, and ``sum_k f(X)[k, k]`` is differentiated, so row ``k`` of ``dX`` is ``∂f_k/∂x``.
    Valid for models that treat batch rows independently (no batch statistics: the model is put in
    eval mode for the pass and its mode restored). Returns float64 of shape ``(m, n)``.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D, or the model's output for one example is not a vector.
    """
    from .function import enable_grad
    from .tensor import Tensor

    x_arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if x_arr.ndim != 1:
        raise ValueError(f"input_output_jacobian: x must have shape (n,), got {x_arr.shape}")
    params = list(model.parameters())
    dtype = params[0].data.dtype if params else x_arr.dtype
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with enable_grad():
            probe = Tensor(x_arr[None, :].astype(dtype))
            m = model(probe).shape
            if len(m) != 2:
                raise ValueError(
                    f"input_output_jacobian: the model must map (1, n) to (1, m), got {m}"
                )
            batch = Tensor(np.repeat(x_arr[None, :], m[1], axis=0).astype(dtype), requires_grad=True)
            out = model(batch)
            (out * Tensor(np.eye(m[1], dtype=dtype))).sum().backward()
    finally:
        model.train(was_training)
        for p in params:
            p.grad = None
    return np.asarray(batch.grad, dtype=np.float64)


def condition_number(matrix: np.ndarray) -> float:
    """``s_max / s_min`` of a matrix's singular values (``inf`` when ``s_min`` is 0)."""
    s = np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False)
    return float(s.max() / s.min()) if s.min() > 0 else float("inf")


def jacobian_study(
    inits: Sequence[str] = ("orthogonal", "lecun_normal"),
    *,
    depths: Sequence[int] = (1, 2, 4, 8, 16, 32),
    width: int = 64,
    activation: str = "identity",
    seed: int = 0,
    dtype: Any = np.float64,
) -> list[dict[str, Any]]:
    """Singular values of the input-output Jacobian of deep networks at initialization (Saxe et al.
    2014).

    For each scheme and depth: a ``depth``-layer network of ``width × width`` layers (linear for
    ``activation="identity"``; otherwise ``build_mlp`` with that activation between layers),
    ``J = ∂f/∂x`` at a standard-normal input. An orthogonal deep linear network has ``J`` orthogonal:
    every singular value 1 (*dynamical isometry*); products of Gaussian ``N(0, 1/n)`` matrices
    (``lecun_normal``) keep the mean squared singular value at 1 but spread the spectrum wider with
    every layer. The networks are built in ``dtype`` (float64 by default, so that ``s_min`` is not
    limited by float32 rounding at about ``1e-7 · s_max``).

    Returns
    -------
    list of dict
        ``init``, ``depth``, ``width``, ``activation``, ``s_max``, ``s_min``, ``condition``
        (``s_max / s_min``), ``mean_sq`` (mean of ``s²``), and ``singular_values`` (sorted
        descending).
    """
    from .tensor import get_default_dtype, set_default_dtype

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(width)
    out = []
    for init in inits:
        for depth in depths:
            previous = get_default_dtype()
            set_default_dtype(dtype)  # the layers take their dtype from the default
            try:
                if activation == "identity":
                    model = deep_linear(depth, width, init, rng=seed)
                else:
                    model = build_mlp(width, width, depth - 1, width, activation, init, rng=seed)
            finally:
                set_default_dtype(previous)
            s = np.linalg.svd(input_output_jacobian(model, x), compute_uv=False)
            out.append(
                _clean(
                    {
                        "init": init,
                        "depth": depth,
                        "width": width,
                        "activation": activation,
                        "s_max": float(s.max()),
                        "s_min": float(s.min()),
                        "condition": float(s.max() / s.min()) if s.min() > 0 else float("inf"),
                        "mean_sq": float(np.mean(s**2)),
                        "singular_values": s.tolist(),
                    }
                )
            )
    return out
