"""Training: :func:`fit` and :func:`evaluate` (``loop``), the divergence guard and its message
(``divergence``), and resumable checkpoints that carry the run's configuration (``checkpoint``).
``tinynet.training.fit`` is the import path of the API contract."""

from .checkpoint import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    ConfigMismatchError,
    check_config,
    config_mismatches,
    read_checkpoint,
)
from .divergence import Divergence, DivergenceError
from .loop import FitResult, evaluate, fit, write_line

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "ConfigMismatchError",
    "Divergence",
    "DivergenceError",
    "FitResult",
    "check_config",
    "config_mismatches",
    "evaluate",
    "fit",
    "read_checkpoint",
    "write_line",
]
