"""The project's own promises: the README's two commands, CI running exactly the README's test command."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import tinynet

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_has_exactly_two_setup_commands_first():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    assert blocks[0] == "pip install -e . && python examples/train.py --init xavier"
    assert blocks[1].startswith('pip install -e ".[test]" && ')
    assert "pytest" in blocks[1]


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _bash_blocks((ROOT / "README.md").read_text())[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines, f"{test_command!r} not a line of .ci/run"


def test_version_is_exposed():
    assert re.fullmatch(r"\d+\.\d+\.\d+", tinynet.__version__)


def test_import_is_fast():
    code = "import time; t = time.perf_counter(); import tinynet; print(time.perf_counter() - t)"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 0.5, f"import tinynet took {out.stdout.strip()} s"
    assert time.perf_counter() - start < 5


def test_py_typed_is_shipped():
    assert (ROOT / "tinynet" / "py.typed").exists()
