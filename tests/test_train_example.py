"""examples/train.py end to end, in subprocesses with tiny settings.

All runs start together in one module fixture (they are independent), so the module costs about
the time of the slowest run rather than the sum. Every run uses a fresh ``TINYNET_CACHE``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    "save": ["--epochs", "1", "--save", "{tmp}/ckpt.npz", "--json", *TINY],
    "plot": ["--epochs", "1", "--depth", "1", "--plot", "{tmp}/dash.png", *TINY],
    "bad_init": ["--init", "xavierr"],
    "bad_spec": ["--init", "normal(std=)"],
    "bad_activation": ["--activation", "rleu"],
    "bad_depth": ["--depth", "-3"],
    "bad_lr": ["--lr", "fast"],
    "bad_data": ["--data", "synthetc"],
    "bad_optimizer": ["--optimizer", "adamm"],
}  # fmt: skip


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, TINYNET_CACHE=str(cache), OPENBLAS_NUM_THREADS="1")
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


def test_save_then_resume_continues_training(runs):
    tmp, env, results = runs
    assert results["save"][0] == 0
    assert (tmp / "ckpt.npz").exists()
    proc = _start(["--epochs", "2", "--resume", "{tmp}/ckpt.npz", "--json", *TINY], tmp, env)
    out, err = proc.communicate(timeout=300)
    data = _json((proc.returncode, out, err))
    assert proc.returncode == 0
    assert [h["epoch"] for h in data["fit"]["history"]] == [1, 2]
    first = _json(results["save"])["fit"]["history"][0]
    assert data["fit"]["history"][0] == first  # epoch 1 comes from the checkpoint


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
    ],
)
def test_bad_arguments_exit_2_without_traceback(runs, name, expected):
    _, _, results = runs
    code, out, err = results[name]
    assert code == 2
    assert out == ""
    assert err.startswith("usage: train.py")
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
