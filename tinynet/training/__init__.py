"""Training: :func:`fit` and :func:`evaluate` (``loop``), the divergence guard and its message
(``divergence``, which checks the data for NaN/inf first), and resumable checkpoints that carry
the run's configuration and resume transactionally (``checkpoint``).
``tinynet.training.fit`` is the import path of the API contract."""

from .checkpoint import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    ConfigMismatchError,
    check_config,
    config_mismatches,
    read_checkpoint,
    validate_checkpoint,
)
from .divergence import Divergence, DivergenceError, NonFinite, count_nonfinite
from .loop import FitResult, evaluate, fit, write_line

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "ConfigMismatchError",
    "Divergence",
    "DivergenceError",
    "FitResult",
    "NonFinite",
    "check_config",
    "config_mismatches",
    "count_nonfinite",
    "evaluate",
    "fit",
    "read_checkpoint",
    "validate_checkpoint",
    "write_line",
]
