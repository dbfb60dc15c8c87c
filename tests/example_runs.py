"""Run example command lines as subprocesses, all at once, for the end-to-end example tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def example_env(cache: Path) -> dict[str, str]:
    """The environment of an example run: a fresh ``TINYNET_CACHE``, one BLAS thread, and the
    project on ``PYTHONPATH``."""
    env = dict(os.environ, TINYNET_CACHE=str(cache), OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_examples(
    commands: Mapping[str, tuple[str, Sequence[str]]], tmp: Path, timeout: float = 300
) -> dict[str, tuple[int, str, str]]:
    """``{name: (script in examples/, args)}`` → ``{name: (exit status, stdout, stderr)}``; every
    command starts at once in ``tmp`` (``{tmp}`` in an argument is replaced by it)."""
    env = example_env(tmp / "cache")
    started = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES / script), *(a.replace("{tmp}", str(tmp)) for a in args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp,
        )
        for name, (script, args) in commands.items()
    }
    results = {}
    for name, proc in started.items():
        out, err = proc.communicate(timeout=timeout)
        results[name] = (proc.returncode, out, err)
    return results


def ok(result: tuple[int, str, str]) -> tuple[str, str]:
    """``(stdout, stderr)`` of a run that exited 0 without a traceback (asserted)."""
    code, out, err = result
    assert "Traceback" not in err, err
    assert code == 0, err
    return out, err
