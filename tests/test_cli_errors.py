"""Bad command lines of every example: exit 2 (1 when every run of a sweep failed), exactly one line
on stderr naming the flag, no traceback, nothing written, and no work started.

The cases are the classes an adversarial pass found (negative seeds, non-finite rates, sizes that
cannot fit in memory, unwritable output paths, hostile init specs) crossed with the four scripts.
They run as subprocesses, several at once, in one module fixture.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = ("train.py", "compare_inits.py", "symmetry.py", "depth_sweep.py")
#: the flag that takes init specs in each script
SPEC_FLAG = {"train.py": "--init", "compare_inits.py": "--inits", "symmetry.py": "--inits",
             "depth_sweep.py": "--inits"}  # fmt: skip
HOSTILE_SPECS = {
    "huge_int": "normal(std=1" + "0" * 400 + ")",
    "unary_minus": "normal(std=" + "-" * 600 + "1)",
    "unsampleable_bounds": "uniform(low=-1e308, high=1e308)",
    "deep_nesting": "normal(std=" + "(" * 2000 + "1" + ")" * 2000 + ")",
    "unknown_name": "xaviar",
}
#: a case: (script, argv with {tmp} placeholders, the flag the one error line must name, env)
CASES: dict[str, tuple[str, list[str], str, dict[str, str]]] = {}
for script in SCRIPTS:
    stem = script.removesuffix(".py")
    CASES[f"{stem}-seed"] = (script, ["--seed", "-1"], "--seed", {})
    CASES[f"{stem}-lr-inf"] = (script, ["--lr", "inf"], "--lr", {})
    CASES[f"{stem}-lr-nan"] = (script, ["--lr", "nan"], "--lr", {})
    CASES[f"{stem}-width"] = (script, ["--width", "10000000"], "--width", {})
    CASES[f"{stem}-depth"] = (script, ["--depth", "100000000"], "--depth", {})
    CASES[f"{stem}-plot-no-folder"] = (script, ["--plot", "{tmp}/missing/x.png"], "--plot", {})
    CASES[f"{stem}-plot-folder"] = (script, ["--plot", "{tmp}"], "--plot", {})
    CASES[f"{stem}-plot-under-file"] = (script, ["--plot", "{tmp}/a-file/x.png"], "--plot", {})
    for name, spec in HOSTILE_SPECS.items():
        CASES[f"{stem}-spec-{name}"] = (script, [SPEC_FLAG[script], spec], SPEC_FLAG[script], {})
    CASES[f"{stem}-unknown-flag"] = (script, ["--no-such-flag"], "--no-such-flag", {})
CASES.update({
    "train-bias-spec": ("train.py", ["--bias-init", HOSTILE_SPECS["huge_int"]], "--bias-init", {}),
    "train-data-long": ("train.py", ["--data", "d" * 5000], "--data", {}),
    "train-save": ("train.py", ["--save", "{tmp}/missing/ckpt.npz"], "--save", {}),
    "train-momentum": ("train.py", ["--momentum", "1.5"], "--momentum", {}),
    "train-momentum-inf": ("train.py", ["--momentum", "inf"], "--momentum", {}),
    "train-parametrization": ("train.py", ["--parametrization", "mupp"], "--parametrization", {}),
    "train-base-width": ("train.py", ["--base-width", "64"], "--base-width", {}),
    "train-mirror-scheme": ("train.py", ["--mirror", "ftp://127.0.0.1/mnist/"], "--mirror", {}),
    "train-memory-env": ("train.py", [], "--width", {"TINYNET_MEMORY_LIMIT": "1M"}),
    "train-memory-env-bad": ("train.py", [], "$TINYNET_MEMORY_LIMIT", {"TINYNET_MEMORY_LIMIT": "lots"}),
    "compare-seeds": ("compare_inits.py", ["--seeds", "-3"], "--seeds", {}),
    "symmetry-momentum-inf": ("symmetry.py", ["--momentum", "inf"], "--momentum", {}),
    "depth-momentum-nan": ("depth_sweep.py", ["--momentum", "nan"], "--momentum", {}),
    "depth-train-width": ("depth_sweep.py", ["--study", "train", "--train-width", "10000000"],
                          "--train-width", {}),
    "depth-train-depth": ("depth_sweep.py", ["--study", "train", "--train-depth", "100000000"],
                          "--train-depth", {}),
    "depth-train-spec": ("depth_sweep.py", ["--train-inits", HOSTILE_SPECS["unary_minus"]],
                         "--train-inits", {}),
    "depth-jacobian-depths": ("depth_sweep.py", ["--study", "jacobian", "--jacobian-depths",
                                                 "1,100000000"], "--jacobian-depths", {}),
})  # fmt: skip


def _run(tmp: Path, script: str, argv: list[str], env: dict[str, str], timeout: float = 60):
    full_env = {**os.environ, "TINYNET_CACHE": str(tmp / "cache"), "OPENBLAS_NUM_THREADS": "1", **env}
    args = [a.replace("{tmp}", str(tmp)) for a in argv]
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, env=full_env,
        timeout=timeout, cwd=tmp,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "a-file").write_text("not a folder")
    before = sorted(p.name for p in tmp.iterdir())
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, tmp, s, argv, env) for name, (s, argv, _, env) in CASES.items()}
        out = {name: future.result() for name, future in futures.items()}
    return out, before, sorted(p.name for p in tmp.iterdir())


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_command_line_exits_2_with_one_line_naming_the_flag(results, name):
    script, _argv, flag, _env = CASES[name]
    code, out, err = results[0][name]
    assert code == 2, (name, code, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{script}: error: ")
    assert flag in lines[0]
    assert out == ""  # refused before the first progress line


def test_refused_command_lines_write_nothing(results):
    _, before, after = results
    assert after == before  # no plot, checkpoint, cache folder or partial file was created


def test_the_memory_refusal_names_the_estimate_and_the_limit(results):
    line = results[0]["train-width"][2]
    assert "2 hidden layers of 10000000 units need about" in line
    assert "over the limit of" in line and "TINYNET_MEMORY_LIMIT" in line
    assert "limit of 1 MiB" in results[0]["train-memory-env"][2]


def test_a_long_value_is_cut_in_the_middle_keeping_the_flag_and_the_reason(results):
    line = results[0]["train-data-long"][2].strip()
    assert len(line) < 1000 and " … " in line
    assert line.startswith("train.py: error: argument --data: 'ddd")
    assert line.endswith("nor an existing path (see --help)")


def test_a_mirror_is_where_train_downloads_from(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "train-images-idx3-ubyte.gz").write_bytes(b"not the published file")
    argv = ["--data", "mnist", "--mirror", mirror.as_uri() + "/"]
    code, _out, err = _run(tmp_path, "train.py", argv, {})
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert f"{mirror.as_uri()}/train-images-idx3-ubyte.gz: SHA-256" in err  # fetched, then refused
    assert not list((tmp_path / "cache").rglob("*.gz"))  # nothing kept


def test_a_diverged_trainability_run_is_reported_not_a_crash(tmp_path):
    argv = ["--study", "train", "--train-inits", "he,normal(std=1.0)", "--train-depth", "2",
            "--train-width", "8", "--epochs", "2", "--limit", "40", "--batch-size", "10",
            "--lr", "1e4"]  # fmt: skip
    code, out, err = _run(tmp_path, "depth_sweep.py", argv, {})
    assert code == 0, err
    assert "Traceback" not in err and "Warning" not in err
    rows = [line for line in out.splitlines() if line.startswith(("he", "normal"))]
    assert len(rows) == 2 and all(" * " in row and "(stopped at step" in row for row in rows), out
    assert "* diverged:" in out


def _load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_inits_exits_1_when_every_run_failed(monkeypatch, capsys, tmp_path):
    sweep_module = importlib.import_module("tinynet.experiments.sweep")  # the module, not the function

    def broken(*args, **kwargs):
        raise RuntimeError("this run cannot start\non two lines")

    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path))
    monkeypatch.setattr(sweep_module, "run", broken)  # the inline executor (--jobs 1) runs here
    compare = _load_example("compare_inits")
    argv = ["--inits", "he,xavier", "--seeds", "1", "--jobs", "1", "--depth", "1", "--width", "4",
            "--epochs", "1", "--limit", "20"]  # fmt: skip
    assert compare.main(argv) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "compare_inits.py: error: all 2 runs failed; the first: RuntimeError: this run cannot start "
        "on two lines"
    ]


def test_compare_inits_exits_0_when_one_run_survives(monkeypatch, capsys, tmp_path):
    sweep_module = importlib.import_module("tinynet.experiments.sweep")  # the module, not the function

    real = sweep_module.run

    def half_broken(config, **kwargs):
        if config.init == "xavier":
            raise RuntimeError("broken")
        return real(config, **kwargs)

    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path))
    monkeypatch.setattr(sweep_module, "run", half_broken)
    compare = _load_example("compare_inits")
    argv = ["--inits", "he,xavier", "--seeds", "1", "--jobs", "1", "--depth", "1", "--width", "4",
            "--epochs", "1", "--limit", "20"]  # fmt: skip
    assert compare.main(argv) == 0
    assert "error" not in capsys.readouterr().err
