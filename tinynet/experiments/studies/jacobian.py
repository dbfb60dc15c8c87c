"""Jacobian conditioning: singular values of a network's input-output Jacobian at initialization (Saxe
et al. 2014: orthogonal deep linear networks are perfectly conditioned)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._checks import check_int
from ..._files import json_ready
from ...function import enable_grad
from ...tensor import Tensor, get_default_dtype, set_default_dtype
from ..build import build_mlp

__all__ = ["condition_number", "deep_linear", "input_output_jacobian", "jacobian_study"]


def deep_linear(depth: int, width: int, init: str, rng: int = 0) -> Any:
    """A linear network ``x ↦ x W_1 ⋯ W_depth`` of ``depth`` square ``width × width`` layers with
    zero biases (``build_mlp`` with identity activations)."""
    check_int("deep_linear", "depth", depth, minimum=1)
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
                json_ready(
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
