"""tinynet.report: the embedded records round-trip, nothing points outside the file, same data give
the same bytes, and a report of the default sweep's shape stays within its size and time budget."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import report_studies

from tinynet import report
from tinynet.experiments import Config, run
from tinynet.experiments.cli import write_run_report, write_study_report
from tinynet.experiments.leaderboard import COLUMNS
from tinynet.report.data import OUTPUT_KEYS, TIMING_KEYS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

SIZE_BUDGET = 3_000_000  # bytes, for the default 19-scheme sweep (its real report: 2.09 MB, built in 0.6 s)
TIME_BUDGET = 2.0  # seconds to build it


@pytest.fixture(scope="module")
def small_run():
    """A 2-hidden-layer run of 2 epochs on 600 digits, recorded every 5 steps."""
    return run(Config(depth=2, width=24, epochs=2, limit=600, seed=3), quiet=True, record_every=5)


def _page(result) -> str:
    entry = report.run_entry("xavier", result.monitor.to_dict(histograms=True), fit=result.fit.to_dict())
    return report.render(report.report_data("t", runs=[entry]))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.meta: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
                self.links.append((tag, name, value or ""))
        if tag == "meta":
            self.meta.append(dict(attrs))


def test_embedded_monitor_round_trips_with_to_json(small_run) -> None:
    page = _page(small_run)
    data = report.read_data(page)
    expected = json.loads(small_run.monitor.to_json(histograms=True))
    assert data["runs"][0]["monitor"] == expected
    # the compaction is real: the embedded text stores ranges, not every edge
    raw = json.loads(re.search(r'id="tinynet-data">(.*?)</script>', page, re.S).group(1))
    some = next(iter(raw["runs"][0]["monitor"]["histograms"].values()))
    first = next(v for k, v in some.items() if k != "weight_grads")
    assert "range" in first["values"] and "edges" not in first["values"]


def test_compaction_keeps_non_uniform_edges() -> None:
    h = {"0": {"m": {"values": {"counts": [1, 2], "edges": [0.0, 0.3, 1.0]}, "grads": None}}}
    assert report.compact_histograms(h) == h
    counts, edges = np.histogram(np.arange(10.0), bins=7, range=(-1.3, 11.1))
    uniform = {"0": {"m": {"values": {"counts": counts.tolist(), "edges": edges.tolist()}}}}
    compact = report.compact_histograms(uniform)
    assert compact["0"]["m"]["values"] == {"counts": counts.tolist(), "range": [-1.3, 11.1]}
    assert report.expand_histograms(compact) == uniform


def test_no_src_or_href_points_outside_and_csp_forbids_fetching(small_run) -> None:
    page = _page(small_run)
    parser = _Links()
    parser.feed(page)
    outside = [link for link in parser.links if not link[2].startswith(("#", "data:"))]
    assert outside == []
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    csp = [m["content"] for m in parser.meta if m.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1
    policy = csp[0]
    assert "default-src 'none'" in policy and "connect-src" not in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    # the hashes in the policy are those of the inline script and style actually in the page
    script = report.script()
    style = report.asset("report.css")
    assert policy == report.content_security_policy(script, style)
    assert f"<script>{script}</script>" in page and f"<style>{style}</style>" in page
    assert "<noscript>" in page and "@media print" in page


def test_package_data_are_inlined() -> None:
    script, style = report.script(), report.asset("report.css")
    assert "tinynet-data" in script and "location.hash" in script and len(script) > 5000
    assert "svg.chart" in style
    # the script is its parts, in order, in one strict function scope
    parts = [report.asset(name) for name in report.SCRIPTS]
    assert report.SCRIPTS == ("charts.js", "report.js")
    assert script.index(parts[0]) < script.index(parts[1])
    assert script.startswith('(function () {\n"use strict";\n') and script.endswith("})();\n")
    assert "function lineChart(" in parts[0] and "function build(" in parts[1]


def test_same_inputs_same_bytes_and_no_timings(small_run, tmp_path) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    write_run_report(str(a), small_run)
    again = run(Config(depth=2, width=24, epochs=2, limit=600, seed=3), quiet=True, record_every=5)
    write_run_report(str(b), again)
    assert a.read_bytes() == b.read_bytes()
    data = report.read_data(a.read_text(encoding="utf-8"))

    def keys(value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield from keys(v)
        elif isinstance(value, list):
            for v in value:
                yield from keys(v)

    assert not TIMING_KEYS & set(keys(data))
    other = run(Config(depth=2, width=24, epochs=2, limit=600, seed=4), quiet=True, record_every=5)
    write_run_report(str(b), other)
    assert a.read_bytes() != b.read_bytes()


def test_embedded_json_cannot_close_its_script(small_run) -> None:
    result = small_run
    entry = report.run_entry("</script><script>alert(1)</script>", result.monitor.to_dict(histograms=True))
    page = report.render(report.report_data("x</script>", runs=[entry]))
    assert page.count("</script>") == 2  # the data block's and the code's own
    assert report.read_data(page)["runs"][0]["label"] == "</script><script>alert(1)</script>"


def test_report_data_refuses_bad_input(small_run) -> None:
    entry = report.run_entry("a", small_run.monitor.to_dict())
    with pytest.raises(ValueError, match="distinct"):
        report.report_data("t", runs=[entry, entry])
    with pytest.raises(ValueError, match="nothing to show"):
        report.report_data("t")
    with pytest.raises(ValueError, match="version"):
        report.render({"title": "no version"})


def test_step_losses_are_thinned() -> None:
    fit = {"history": [], "step_losses": [float(i) for i in range(5000)], "steps": 5000}
    entry = report.run_entry("a", {"history": []}, fit=fit, max_losses=100)
    losses = entry["fit"]["losses"]
    assert len(losses) == 100 and losses[-1][0] == 5000
    assert losses[0] == [50, pytest.approx(24.5)]


def test_study_report_has_panels(tmp_path) -> None:
    results = {
        "config": {"seed": 0},
        "symmetry": [{"init": "zeros", "steps": [0, 10], "units": [8, 10], "distinct": [[1, 1], [1, 1]]}],
        "train": [{"optimizer": "sgd", "scheme": "he", "train_loss": [2.0, 1.0], "depth": 3,
                   "ln_classes": 2.3, "diverged": False}],
        "unknown_study": {"a": 1},
    }  # fmt: skip
    line = write_study_report(str(tmp_path / "s.html"), results, "studies")
    assert "open it" in line
    data = report.read_data((tmp_path / "s.html").read_text(encoding="utf-8"))
    assert [p["title"] for p in data["panels"]] == [
        "zeros: distinct units per layer",
        "3-layer MLP, sgd: training loss per epoch",
    ]
    assert data["studies"]["unknown_study"] == {"a": 1}


def _sweep_like(result, schemes: int = 19, seeds: int = 3) -> dict:
    """A sweep's to_dict() of the default shape (19 schemes × 3 seeds, 5 epochs, 6×128 MLP) with
    each scheme's first seed keeping records like sweep(histories=True): 2 per epoch, 24 bins."""
    monitor = result.monitor.to_dict(histograms=True, updates=False)
    for entry in monitor["histograms"].values():
        entry.pop("weight_grads", None)
    runs = []
    for k in range(schemes):
        for s in range(seeds):
            run_summary = {"init": f"scheme_{k}", "seed": s, "history": result.fit.history}
            if s == 0:
                run_summary["monitor"] = copy.deepcopy(monitor)
            runs.append(run_summary)
    row = {key: {"mean": 0.5, "std": 0.01, "n": seeds} for key, _ in COLUMNS}
    board = [{"rank": str(k + 1), "init": f"scheme_{k}", "runs": seeds, **row} for k in range(schemes)]
    return {"runs": runs, "leaderboard": board, "inits": [f"scheme_{k}" for k in range(schemes)],
            "seeds": list(range(seeds))}  # fmt: skip


def test_default_sweep_sized_report_is_within_budget(tmp_path) -> None:
    # one run of the default sweep's network (6×128, records 2 per epoch over 5 epochs, 24 bins) on
    # few digits: records have the default sweep's shape, whatever the data size
    config = Config(depth=6, width=128, epochs=5, limit=640, batch_size=64)
    result = run(config, quiet=True, record_every=5, record_final=True, bins=24)
    assert len(result.monitor.history) == 11
    summary = _sweep_like(result)
    # CPU time of this process: the budget is the build's work, not the load of a shared machine
    began = time.process_time()
    runs = [report.run_entry(r["init"], r["monitor"]) for r in summary["runs"] if "monitor" in r]
    data = report.report_data("sweep", runs=runs, sweep=report.sweep_section(summary, COLUMNS))
    size = report.write_report(tmp_path / "sweep.html", data)
    took = time.process_time() - began
    assert len(runs) == 19
    assert size <= SIZE_BUDGET, f"{size / 1e6:.2f} MB"
    assert took <= TIME_BUDGET, f"{took:.2f} s"


def _finite(values) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and np.isfinite(v)]


def test_edge_of_chaos_readers_on_real_results() -> None:
    results = report_studies.edge_of_chaos()
    panels = report.study_panels(results)
    titles = [p["title"] for p in panels]
    assert len(panels) == 1 + 1 + 3 + 2 + 1, titles
    for p in panels:
        assert p["series"] and all(len(s["x"]) == len(s["y"]) > 0 for s in p["series"]), p["title"]
        assert any(_finite(s["y"]) for s in p["series"]), p["title"]
    phase, xi, corr = panels[0], panels[1], panels[2:5]
    line = results["phase"][0]["critical_line"]
    assert phase["series"][0]["x"] == line["sigma_w2"] and phase["series"][0]["y"] == line["sigma_b2"]
    assert "1.761" in xi["note"] and [s["name"] for s in xi["series"]] == ["ξ_c", "ξ_q"]
    assert [p["title"].split("(")[1].split(")")[0] for p in corr] == ["ordered", "critical", "chaotic"]
    for p in corr:  # measured, then its c-map dashed, per c0
        assert [s["dashed"] for s in p["series"]] == [False, True] * 3
        assert all(len(s["x"]) == 5 for s in p["series"])
    depth, accuracy = panels[5], panels[6]
    tent = results["tent"]
    assert depth["series"][0]["y"] == tent["trainable_depth"] and depth["series"][0]["x"] == tent["sigma_w2"]
    paper = next(s for s in depth["series"] if "paper" in s["name"])
    assert paper["dashed"] and paper["y"][0] == pytest.approx(6 * tent["xi_curve"]["xi_c"][0])
    assert accuracy["reference"] == tent["threshold"] and len(accuracy["series"]) == len(tent["depths"])
    spectra = panels[7]
    assert spectra["log_x"] and spectra["log_y"] and len(spectra["series"]) == 2 * 4
    assert spectra["series"][0]["x"] == [2, 4] and spectra["series"][1]["dashed"]


def test_coord_check_reader_one_panel_per_step_and_parametrization() -> None:
    result = report_studies.coord_check()
    panels = report.study_panels({"coord_check": result})
    expected = [f"{name}, step {step}" for name in ("sp", "mup") for step in (1, 2)]
    assert [p["title"].split(":")[0] for p in panels] == expected
    for p, (row, step) in zip(panels, [(r, s) for r in result["results"] for s in range(2)]):
        assert p["log_x"] and p["log_y"] and len(p["series"]) == 3
        for k, s in enumerate(p["series"]):
            assert s["x"] == [16, 32] and s["y"] == row["mean_abs"][step][k]
            assert s["name"].endswith(f"({row['slopes'][step][k]:+.2f})")


def test_lr_transfer_reader_rings_each_width_s_best() -> None:
    result = report_studies.lr_transfer()
    panels = report.study_panels({"lr_transfer": result})
    expected = [f"{name}: training loss against learning rate" for name in ("sp", "mup")]
    assert [p["title"] for p in panels] == expected
    for p, r in zip(panels, result["results"]):
        assert [s["x"] for s in p["series"]] == [[-8.0, -6.0, -4.0]] * 2
        assert [s["y"] for s in p["series"]] == r["loss"]
        assert [s["mark"] for s in p["series"]] == r["best"]
        assert all(f"best 2^{k:g}" in s["name"] for s, k in zip(p["series"], r["best_log2_lr"]))


def test_the_architecture_studies_chart_each_runs_profile_and_loss() -> None:
    results = report_studies.architectures()
    for name, title_start in (("he_cnn", "deep plain CNN"), ("residual", "residual MLP"),
                              ("normalization", "bad init"), ("delta_orthogonal", "32-layer")):  # fmt: skip
        result = results[name]
        panels = report.study_panels({name: result})
        runs = [r for r in result["runs"] if not r.get("error")]
        assert all(p["title"].startswith(title_start) for p in panels)
        profile, loss = panels[0], panels[1]
        key = "stream_std" if name == "residual" else "act_std"
        assert [s["y"] for s in profile["series"]] == [r[key] for r in runs]
        assert [s["y"] for s in loss["series"]] == [r["step_loss"] for r in runs]
        assert loss["reference"] == pytest.approx(math.log(10))
        assert len(panels) == (3 if name == "delta_orthogonal" else 2)  # + the Jacobian's spectrum
    spectrum = report.study_panels({"delta_orthogonal": results["delta_orthogonal"]})[2]
    assert [s["y"] for s in spectrum["series"]] == [
        v["singular_values"] for v in results["delta_orthogonal"]["variants"]
    ]


def test_a_study_report_of_each_example_embeds_its_results(tmp_path) -> None:
    for example in report_studies.EXAMPLES:
        results = report_studies.results(example)
        write_study_report(str(tmp_path / f"{example}.html"), {"config": {"seed": 0}, **results}, example)
        data = report.read_data((tmp_path / f"{example}.html").read_text(encoding="utf-8"))
        assert set(data["studies"]) == set(results) and data["panels"]
        assert data["panels"] == json.loads(json.dumps(report.study_panels(results)))


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_same_run_written_to_two_paths_gives_the_same_bytes(tmp_path, capsys) -> None:
    coord = _example("coord_check")
    pages = [tmp_path / "one.html", tmp_path / "sub" / "two.html"]
    pages[1].parent.mkdir()
    for page in pages:
        assert coord.main(["--widths", "8,16", "--seeds", "1", "--steps", "1", "--batch-size", "4",
                           "--report", str(page)]) == 0  # fmt: skip
    assert pages[0].read_bytes() == pages[1].read_bytes()
    text = pages[0].read_text(encoding="utf-8")
    assert "one.html" not in text and str(tmp_path) not in text
    assert "report written to " in capsys.readouterr().out
    # every output path and display flag goes, the rest of the command line stays
    config = {"report": "a.html", "plot": "a.png", "json": True, "save": "c.npz", "resume": None, "seed": 1}
    assert report.strip_outputs(config) == {"seed": 1} and {"report", "plot", "save"} <= OUTPUT_KEYS
    data = report.report_data("t", studies={"x": [1], "figures": {"x": "a.png"}}, config=config)
    assert data["config"] == {"seed": 1} and data["studies"] == {"x": [1]}


def test_the_open_line_says_size_and_build_time() -> None:
    line = report.open_line("r.html", 2_345_678, 0.84)
    assert line.startswith("report written to r.html (2.35 MB, built in 0.8 s); open it: file://")
    assert "built in" not in report.open_line("r.html", 10)
