"""examples/train.py end to end, in subprocesses with tiny settings.

All runs start together in one module fixture (they are independent), so the module costs about
the time of the slowest run rather than the sum. Every run uses a fresh ``TINYNET_CACHE`` and no BLAS
thread variable (the example sets its own thread count). One run happens in a pseudo-terminal with
its progress bars on, as a person sees it.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

import tinynet as tn
from tinynet.experiments import BLAS_THREAD_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "train.py"
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
TINY = ["--limit", "300", "--width", "64", "--no-progress"]

RUNS = {
    "xavier": ["--init", "xavier", "--epochs", "2", "--json", *TINY],
    "zeros": ["--init", "zeros", "--epochs", "1", "--json", *TINY],
    "saturation": ["--init", "normal(std=1.0)", "--activation", "tanh", "--depth", "10",
                   "--epochs", "1", "--json", *TINY],
    "diverge": ["--lr", "1e3", "--epochs", "2", "--json", *TINY],
    "human": ["--init", "he", "--epochs", "1", "--depth", "1", *TINY],
    "wide": ["--init", "he", "--epochs", "1", "--depth", "1", "--wide", *TINY],
    "save": ["--epochs", "1", "--save", "{tmp}/ckpt.npz", "--json", *TINY],
    "threads": ["--epochs", "0", "--depth", "1", "--threads", "2", "--json", *TINY],
    "plot": ["--epochs", "1", "--depth", "1", "--plot", "{tmp}/dash.png", *TINY],
    "bad_init": ["--init", "xavierr"],
    "bad_spec": ["--init", "normal(std=)"],
    "bad_activation": ["--activation", "rleu"],
    "bad_depth": ["--depth", "-3"],
    "bad_lr": ["--lr", "fast"],
    "bad_data": ["--data", "synthetc"],
    "bad_optimizer": ["--optimizer", "adamm"],
    "bad_threads": ["--threads", "0"],
}  # fmt: skip


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    env["TINYNET_CACHE"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _start(args: list[str], tmp: Path, env: dict[str, str]) -> subprocess.Popen:
    argv = [a.replace("{tmp}", str(tmp)) for a in args]
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    env = _env(tmp / "cache")
    started = {name: _start(args, tmp, env) for name, args in RUNS.items()}
    results = {}
    for name, proc in started.items():
        out, err = proc.communicate(timeout=300)
        results[name] = (proc.returncode, out, err)
    return tmp, env, results


def _json(result) -> dict:
    _, out, err = result
    assert "Traceback" not in err, err
    return json.loads(out)


def test_xavier_run_trains_and_reports(runs):
    _, _, results = runs
    code, _, err = results["xavier"]
    data = _json(results["xavier"])
    assert code == 0
    assert data["config"]["init"] == "xavier" and data["data"]["n_train"] == 300
    assert [h["epoch"] for h in data["fit"]["history"]] == [1, 2]
    assert data["test_accuracy"] > 0.5  # 10 classes: chance is 0.1
    assert not data["diverged"] and data["message"] is None
    assert data["monitor"]["history"][0]["step"] == 0
    assert len(data["monitor"]["history"]) == 3  # init + one record per epoch
    # with --json the human-readable output goes to stderr, stdout holds only the JSON
    assert "epoch 2/2" in err and "Findings at initialization:" in err


def test_human_output_epoch_lines_table_and_findings(runs):
    _, _, results = runs
    code, out, err = results["human"]
    assert code == 0, err
    lines = out.splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 1
    header = next(i for i, line in enumerate(lines) if line.startswith("layer  module"))
    assert lines[header + 2].split()[0] == "1" and lines[header + 3].split()[0] == "2"
    assert "Findings at initialization:" in out
    assert lines[-1].startswith("test accuracy ")
    assert err == ""  # --no-progress: no bars


def test_wide_shows_every_column_and_the_default_table_fits_100(runs):
    _, _, results = runs
    (code, out, _), (wide_code, wide_out, _) = results["human"], results["wide"]
    assert code == wide_code == 0
    narrow, wide = _table(out, keep_all=True), _table(wide_out, keep_all=True)
    assert set(narrow[0]) < set(wide[0])  # every default column, and more
    assert narrow[-1][0].startswith("step 5  ") and wide[-1][0].startswith("step 5  ")
    start = next(i for i, line in enumerate(out.splitlines()) if line.startswith("layer "))
    assert all(len(line) <= 100 for line in out.splitlines()[start : start + len(narrow)])


def test_zero_init_names_the_symmetry(runs):
    _, _, results = runs
    code, _, _ = results["zeros"]
    data = _json(results["zeros"])
    assert code == 0  # runs to the end
    for when in ("first", "last"):
        findings = data["findings"][when]
        for layer in (1, 2):
            expected = f"layer {layer}: 1 distinct unit of 64 — every hidden unit is identical"
            assert any(f.startswith(expected) for f in findings), findings
    last = data["monitor"]["history"][-1]
    assert last["step"] > 0
    assert [row["distinct_units"] for row in last["layers"][:-1]] == [1, 1]
    assert data["test_accuracy"] < 0.2  # near chance


def test_large_normal_init_with_tanh_names_the_saturation(runs):
    _, _, results = runs
    code, _, _ = results["saturation"]
    data = _json(results["saturation"])
    assert code == 0
    saturated = [f for f in data["findings"]["first"] if "tanh units saturated" in f]
    assert saturated, data["findings"]["first"]
    assert int(saturated[0].split("%")[0]) >= 50
    assert len(data["monitor"]["history"][0]["layers"]) == 11


def test_huge_learning_rate_stops_with_the_divergence_message(runs):
    _, _, results = runs
    code, _, err = results["diverge"]
    data = _json(results["diverge"])
    assert code == 1
    assert data["diverged"] and data["fit"]["history"] == []
    message = data["message"]
    assert message.startswith("training diverged at step ")
    assert "blew up first in layer" in message and "learning rate" in message
    assert "lr=1000" in message
    assert err.count("training diverged at step") == 2  # the message, then the closing line
    assert not any("nan" in line.lower() for line in err.splitlines() if line.startswith("epoch"))


RESUMES = {
    "same": ["--epochs", "2", "--resume", "{tmp}/ckpt.npz", "--json", *TINY],
    "no_more_epochs": ["--epochs", "1", "--resume", "{tmp}/ckpt.npz", *TINY],
    "other_init": ["--init", "he", "--epochs", "2", "--resume", "{tmp}/ckpt.npz", *TINY],
    "forced": ["--init", "he", "--epochs", "2", "--resume", "{tmp}/ckpt.npz", "--force", "--json", *TINY],
    "old": ["--epochs", "2", "--resume", "{tmp}/old.npz", *TINY],
    "old_forced": ["--epochs", "2", "--resume", "{tmp}/old.npz", "--force", "--json", *TINY],
}  # fmt: skip


@pytest.fixture(scope="module")
def resumes(runs):
    """Every resume of the "save" run's checkpoint (after one epoch of xavier), and of a copy of it in
    the older format that stores no configuration, started together."""
    tmp, env, results = runs
    assert results["save"][0] == 0, results["save"][2]
    state = tn.load(tmp / "ckpt.npz")
    for key in ("config", "step_losses"):
        del state[key]
    state["format"] = "tinynet-fit-1"
    tn.save(state, tmp / "old.npz")
    started = {name: _start(args, tmp, env) for name, args in RESUMES.items()}
    finished = {}
    for name, proc in started.items():
        out, err = proc.communicate(timeout=300)
        finished[name] = (proc.returncode, out, err)
    return finished


def _table(text: str, keep_all: bool = False) -> list[list[str]]:
    """The diagnostics table of a report as cells, from its header through the record's summary
    line, without the update:data column unless ``keep_all`` (the ratio of the step before, which a
    record taken right after loading a checkpoint cannot know)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("step "))
    rows = [re.split(r" {2,}", line.strip()) for line in lines[start:end]]
    drop = rows[0].index("upd:data") if "upd:data" in rows[0] and not keep_all else -1
    return [[c for i, c in enumerate(row) if i != drop] for row in rows] + [[lines[end]]]


def test_save_then_resume_continues_training(runs, resumes):
    _, _, results = runs
    code, out, err = resumes["same"]
    data = _json((code, out, err))
    assert code == 0
    saved = _json(results["save"])
    assert [h["epoch"] for h in data["fit"]["history"]] == [1, 2]
    assert data["fit"]["history"][0] == saved["fit"]["history"][0]  # epoch 1 comes from the checkpoint
    steps = 5  # 300 examples in batches of 64
    assert data["fit"]["step_losses"][:steps] == saved["fit"]["step_losses"]
    assert len(data["fit"]["step_losses"]) == 2 * steps
    assert "warning" not in err


def test_first_report_after_resume_describes_the_loaded_model(runs, resumes):
    _, _, results = runs
    saved = _json(results["save"])
    data = _json(resumes["same"])
    loaded, checkpointed = data["monitor"]["history"][0], saved["monitor"]["history"][-1]
    assert loaded["step"] == checkpointed["step"] == 5
    assert loaded["loss"] == checkpointed["loss"] and loaded["accuracy"] == checkpointed["accuracy"]
    assert loaded["loss"] != saved["monitor"]["history"][0]["loss"]  # not a freshly built model
    assert "Findings at step 5:" in resumes["same"][2]
    assert "Findings at initialization:" not in resumes["same"][2]
    # resumed with nothing left to train, the table is the loaded model's: the one the saving run
    # printed for the same weights at the same step
    code, out, err = resumes["no_more_epochs"]
    assert code == 0, err
    assert _table(out) == _table(results["save"][2])
    assert _table(out)[-1][0].startswith("step 5  probe loss ")


def test_resume_with_another_init_exits_2_naming_both(resumes):
    code, out, err = resumes["other_init"]
    assert code == 2 and out == ""
    assert "Traceback" not in err and err.startswith("train.py: error: ") and len(err.splitlines()) == 1
    assert "argument --resume:" in err
    assert "init: checkpoint 'xavier', command line 'he'" in err
    assert "--force continues anyway" in err


def test_resume_with_force_continues_with_a_warning(resumes):
    code, out, err = resumes["forced"]
    data = _json((code, out, err))
    assert code == 0
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "init: checkpoint 'xavier', this run 'he'" in warning[0]
    assert [h["epoch"] for h in data["fit"]["history"]] == [1, 2]
    assert data["config"]["init"] == "he"


def test_resume_of_a_checkpoint_without_configuration(resumes):
    code, out, err = resumes["old"]
    assert code == 2 and out == "" and "Traceback" not in err
    assert "stores no run configuration" in err and "--force continues anyway" in err
    code, out, err = resumes["old_forced"]
    data = _json((code, out, err))
    assert code == 0
    assert any(line.startswith("warning:") and "stores no run configuration" in line
               for line in err.splitlines())  # fmt: skip
    assert data["fit"]["step_losses"][:5] == [None] * 5  # the old format kept no step losses
    assert all(v is not None for v in data["fit"]["step_losses"][5:])


def test_blas_runs_one_thread_unless_asked(runs):
    """No BLAS variable is set in these processes: the example's own setting decides."""
    _, env, results = runs
    assert not any(name in env for name in BLAS_THREAD_VARIABLES)
    assert _json(results["xavier"])["blas_threads"] == 1
    assert _json(results["threads"])["blas_threads"] == 2


EPOCH_LINE = re.compile(r"epoch +\d+/\d+  train loss \d+\.\d{4}  acc .*  \d+\.\d s")


def _in_terminal(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run ``train.py argv`` with stdin, stdout and stderr on one pseudo-terminal 100 columns wide
    (as in a terminal window); return its exit status and everything the terminal received."""
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *argv], stdin=child, stdout=child,
                            stderr=child, env=env, cwd=cwd)  # fmt: skip
    os.close(child)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child side closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            proc.kill()
            raise AssertionError(f"train.py did not finish in {timeout} s in a terminal")
        code = proc.wait(timeout=30)
    finally:
        os.close(main)
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def test_epoch_lines_start_a_line_beside_the_progress_bars(runs):
    """In a terminal, bars (stderr) and epoch lines (stdout) share the screen: each epoch line must
    start at the beginning of a line, not after a bar's text."""
    tmp, env, _ = runs
    argv = ["--limit", "300", "--depth", "1", "--width", "16", "--epochs", "2"]
    code, screen = _in_terminal(argv, env, tmp)
    assert code == 0, screen
    assert "epochs: 100%" in screen and "batch/s" in screen  # the bars were drawn
    lines = [line.rstrip().split("\r")[-1] for line in screen.split("\n")]  # what stays visible
    with_epoch = [line for line in screen.split("\n") if "train loss" in line]
    assert len(with_epoch) == 2, screen
    shown = [line.rstrip().split("\r")[-1].rstrip() for line in with_epoch]
    assert [line.split()[1] for line in shown] == ["1/2", "2/2"]
    for line in shown:
        assert EPOCH_LINE.fullmatch(line), repr(line)
    assert any(line.startswith("test accuracy ") for line in lines)


def test_plot_writes_png_or_explains_the_extra(runs):
    tmp, _, results = runs
    code, out, err = results["plot"]
    assert "Traceback" not in err
    if HAVE_MATPLOTLIB:
        assert code == 0, err
        assert (tmp / "dash.png").read_bytes()[:4] == b"\x89PNG"
    else:
        assert code == 2
        assert 'pip install "tinynet[plot]"' in err and "argument --plot" in err
        assert out == ""  # refused before any training


def test_plot_without_matplotlib_explains_the_extra(runs):
    """matplotlib hidden from the interpreter (whether or not it is installed here)."""
    tmp, env, _ = runs
    hide = (
        "import runpy, sys\n"
        "for name in ('matplotlib', 'matplotlib.figure'):\n"
        "    sys.modules[name] = None\n"
        f"sys.argv = ['train.py', '--plot', 'out.png', '--limit', '50']\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", hide], capture_output=True, text=True, env=env, cwd=tmp, timeout=120
    )
    assert proc.returncode == 2
    assert 'pip install "tinynet[plot]"' in proc.stderr and "argument --plot" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp / "out.png").exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_init", ["argument --init", "Did you mean 'xavier'?", "Valid names:", "he_normal"]),
        ("bad_spec", ["argument --init", "malformed spec"]),
        ("bad_activation", ["argument --activation", "closest match: 'relu'", "tanh"]),
        ("bad_depth", ["argument --depth", "must be >= 0"]),
        ("bad_lr", ["argument --lr", "expected a number"]),
        ("bad_data", ["argument --data", "closest match: 'synthetic'"]),
        ("bad_optimizer", ["argument --optimizer", "closest match: 'adam'"]),
        ("bad_threads", ["argument --threads", "must be >= 1"]),
    ],
)
def test_bad_arguments_exit_2_without_traceback(runs, name, expected):
    _, _, results = runs
    code, out, err = results[name]
    assert code == 2
    assert out == ""
    assert err.startswith("train.py: error: ") and len(err.splitlines()) == 1
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
