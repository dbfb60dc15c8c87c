"""The laboratory: experiments composed from the engine, ``nn``, ``init``, ``optim``, ``data``,
``training`` and ``diagnostics``.

- :mod:`~tinynet.experiments.config`: :class:`Config` (what defines a run), its validation, names;
- :mod:`~tinynet.experiments.build`: the dataset, the MLP and the optimizer of a run, from names;
- :mod:`~tinynet.experiments.run`: **the one** function that performs a training run, :func:`run`;
- :mod:`~tinynet.experiments.grid`: independent tasks through any ``concurrent.futures`` executor;
- :mod:`~tinynet.experiments.sweep`: every scheme × seed through any ``concurrent.futures`` executor;
- :mod:`~tinynet.experiments.leaderboard`: one run's figures, aggregated and rendered;
- :mod:`~tinynet.experiments.cli`: the pieces the example command lines share;
- :mod:`tinynet.experiments.studies`: the papers' claims measured, one module per study.

Every public name of these modules is importable from ``tinynet.experiments`` itself.
"""

from .build import Dataset, build_mlp, load_dataset, make_optimizer
from .config import (
    DATASETS,
    DEFAULT_LR,
    OPTIMIZERS,
    SYNTHETIC_TEST,
    SYNTHETIC_TRAIN,
    Config,
    ConfigError,
    describe,
    validate,
)
from .grid import TaskRun, cached_dataset, run_tasks
from .leaderboard import COLUMNS, LeaderboardRow, format_leaderboard, leaderboard, rank_labels, summarize
from .run import RESUME_FIELDS, ExperimentResult, check_resume, run, summary
from .sweep import (
    BLAS_THREAD_VARIABLES,
    SHOWCASE,
    SweepResult,
    check_inits,
    default_jobs,
    registered_schemes,
    run_task,
    split_specs,
    sweep,
)

__all__ = [
    "BLAS_THREAD_VARIABLES",
    "COLUMNS",
    "DATASETS",
    "DEFAULT_LR",
    "OPTIMIZERS",
    "RESUME_FIELDS",
    "SHOWCASE",
    "SYNTHETIC_TEST",
    "SYNTHETIC_TRAIN",
    "Config",
    "ConfigError",
    "Dataset",
    "ExperimentResult",
    "LeaderboardRow",
    "SweepResult",
    "TaskRun",
    "build_mlp",
    "cached_dataset",
    "check_inits",
    "check_resume",
    "default_jobs",
    "describe",
    "format_leaderboard",
    "leaderboard",
    "load_dataset",
    "make_optimizer",
    "rank_labels",
    "registered_schemes",
    "run",
    "run_task",
    "run_tasks",
    "split_specs",
    "summarize",
    "summary",
    "sweep",
    "validate",
]
