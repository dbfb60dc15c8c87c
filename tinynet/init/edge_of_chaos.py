"""An initialization on the critical line: ``init.get("edge_of_chaos(activation='tanh', sigma_b2=0.05)")``.

Mean-field theory (:mod:`tinynet.theory.meanfield`) says a deep network of weight variance
``σ_w² / fan_in`` and bias variance ``σ_b²`` propagates correlations over a depth scale ξ_c that is
infinite where χ₁ = 1: the edge of chaos (Schoenholz et al. 2017). This strategy draws the weights
there, for the activation named and the bias variance given; its biases belong with it
(:attr:`EdgeOfChaos.bias_partner`). The one place where ``init`` uses the theory (``theory`` never
imports ``init``).
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_real
from ..theory import meanfield as mf
from .fans import Fans, Shape
from .registry import register
from .strategy import Initializer

__all__ = ["EdgeOfChaos"]


@register("edge_of_chaos")
class EdgeOfChaos(Initializer):
    """Weights ``N(0, σ_w*² / fan_in)`` with ``σ_w*² = critical_sigma_w2(activation, sigma_b2)``,
    the weight variance at which χ₁ = σ_w² E[φ'(√q* z)²] = 1 (Poole et al. 2016; Schoenholz et al.
    2017). tanh: σ_w*² = 1.761 at σ_b² = 0.05 (1.424, 1.986, 2.505 at 0.01, 0.1, 0.3; 1 at 0);
    ReLU: only (2, 0), He's initialization.

    The point is critical only with biases ``N(0, σ_b²)``: :attr:`bias_partner` is that bias spec,
    and the sweep, the studies and ``examples/train.py`` (when ``--bias-init`` is not given) use it.

    Parameters
    ----------
    activation
        An activation name of :mod:`tinynet.theory.meanfield` (``"tanh"``, ``"relu"``, ``"erf"``,
        ...): a name, so that the spec prints and parses back.
    sigma_b2
        The bias variance σ_b² >= 0.

    Raises
    ------
    ValueError
        For an unknown activation (the valid names listed), a negative or non-finite σ_b², or an
        activation without a critical point at that σ_b² (ReLU with σ_b² > 0).
    TypeError
        If ``activation`` is not a string.
    """

    def __init__(self, activation: str = "tanh", sigma_b2: float = 0.05) -> None:
        if not isinstance(activation, str):
            raise TypeError(f"edge_of_chaos: activation must be a name such as 'tanh', got {activation!r}")
        self.activation = activation
        self.sigma_b2 = check_real("edge_of_chaos", "sigma_b2", sigma_b2, minimum=0.0, maximum=1e6)
        try:
            #: the critical weight variance σ_w*² (weights have variance σ_w*² / fan_in)
            self.sigma_w2 = mf.critical_sigma_w2(activation, self.sigma_b2)
        except ValueError as error:
            raise ValueError(f"edge_of_chaos: {error}") from None

    @property
    def bias_partner(self) -> str:
        """The bias init spec of this critical point: ``normal(std=√σ_b²)`` (``zeros`` for σ_b² = 0)."""
        return "zeros" if self.sigma_b2 == 0 else f"normal(std={math.sqrt(self.sigma_b2)!r})"

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        return math.sqrt(self.sigma_w2 / fans[0]) * rng.standard_normal(shape)
