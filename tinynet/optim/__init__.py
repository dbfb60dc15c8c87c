"""Optimizers (PyTorch's update rules, exactly) and learning-rate schedulers
(``optim.lr_scheduler``)."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer, effective_lr
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "effective_lr", "lr_scheduler"]
