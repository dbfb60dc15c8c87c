"""Training: :func:`fit` and :func:`evaluate` (``loop``), the divergence guard and its message
(``divergence``), and resumable checkpoints (``checkpoint``). ``tinynet.training.fit`` is the import path
of the API contract."""

from .checkpoint import CHECKPOINT_FORMAT
from .divergence import Divergence, DivergenceError
from .loop import FitResult, evaluate, fit

__all__ = ["CHECKPOINT_FORMAT", "Divergence", "DivergenceError", "FitResult", "evaluate", "fit"]
