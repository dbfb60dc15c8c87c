"""tinynet.experiments.studies edge_of_chaos, spectra and tent, and the grid runner beneath the tent:
the theory's claims checked on small grids, the measurements against the theory with tolerances
from the width and the number of seeds."""

from __future__ import annotations

import importlib.util
import math
import sys
from concurrent.futures import Executor, Future

import numpy as np
import pytest

from tinynet import plotting
from tinynet.experiments import grid, studies
from tinynet.experiments.config import Config
from tinynet.theory import isometry
from tinynet.theory import meanfield as mf

CRITICAL = mf.critical_sigma_w2("tanh", 0.05)


pytestmark = pytest.mark.usefixtures("fresh_cache")


# ------------------------------------------------------------------------------ phase diagram
def test_the_phase_diagram_puts_each_phase_on_its_side_of_the_critical_line():
    sw = [0.5, 1.0, 1.5, 1.75, 2.0, 3.0, 4.0]
    sb = [0.0, 0.05, 0.2]
    (r,) = studies.phase_diagram(["tanh"], sigma_w2=sw, sigma_b2=sb, q_stars=[1e-3, 0.1, 0.5, 1.0])
    assert len(r["chi1"]) == 3 and all(len(row) == 7 for row in r["chi1"])
    assert r["agreement"] == 1.0
    assert r["critical_sigma_w2"][1] == pytest.approx(1.761, abs=1e-3)
    chi = np.array(r["chi1"])
    assert np.all(np.diff(chi, axis=1) > 0)  # χ₁ grows with σ_w² on every row
    # σ_b² = 0 and σ_w² <= 1: the signal dies out, χ₁ is its limit σ_w² tanh'(0)² = σ_w²
    assert r["q_star"][0][:2] == [0.0, 0.0] and chi[0, :2] == pytest.approx([0.5, 1.0], abs=1e-9)
    assert r["ordered"] + r["chaotic"] <= 21 and r["ordered"] >= 5 and r["chaotic"] >= 9
    line = r["critical_line"]
    for w, b in zip(line["sigma_w2"], line["sigma_b2"]):  # every point of the line has χ₁ = 1
        assert mf.chi1("tanh", w, b) == pytest.approx(1.0, abs=1e-6)


def test_phase_of_reads_chi1():
    assert [studies.phase_of(x) for x in (0.5, 1.0, 1.0 + 1e-9, 1.5)] == [
        "ordered", "critical", "critical", "chaotic",
    ]  # fmt: skip


# -------------------------------------------------------------------------------- depth scale
def test_xi_c_peaks_at_the_critical_sigma_w2_and_matches_the_paper():
    r = studies.depth_scale_curve(sigma_w2=[1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0])
    assert r["critical_sigma_w2"] == pytest.approx(1.761, abs=1e-3)
    assert r["peak_sigma_w2"] == 1.75 and r["peak_xi_c"] > 100
    xi = r["xi_c"]
    assert xi[:4] == sorted(xi[:4]) and xi[3:] == sorted(xi[3:], reverse=True)
    refs = {ref["sigma_w2"]: ref["xi_c"] for ref in r["references"]}
    assert refs[1.2] == pytest.approx(5.94, abs=0.01) and refs[1.5] == pytest.approx(15.8, abs=0.05)
    assert all(c == 1.0 for c in r["c_star"][:4]) and all(c < 1 for c in r["c_star"][4:])
    assert max(r["xi_q"]) < 3  # lengths settle within a few layers everywhere


# ------------------------------------------------------------------------------ correlations
@pytest.fixture(scope="module")
def correlations():
    return studies.correlation_study(width=400, depth=20, c0=(0.1, 0.9), seeds=range(6))


def test_measured_correlations_follow_the_c_map_within_the_width_s_error(correlations):
    """Over N units a correlation is measured with a standard error of about (1 - c²)/√N, and each
    layer carries the error made so far on, times the c-map's slope (``width_error``, linearised):
    the mean over S seeds must lie within six of its standard errors, width_error / √S, at every
    layer. (The lengths q^l: within six standard errors √(2/N) q* / √S, the error of one mean
    square over N units, where q* attracts quickly.)"""
    assert len(correlations) == 6
    for r in correlations:
        n, seeds = r["width"], len(r["seeds"])
        measured, predicted = np.array(r["measured"]), np.array(r["predicted"])
        error = np.array(r["width_error"])
        assert error[0] == pytest.approx((1 - r["c0"] ** 2) / math.sqrt(n))
        within = np.abs(measured - predicted) <= 6 * error / math.sqrt(seeds) + 1e-3
        assert np.all(within), (r["phase"], r["c0"])
        q = np.array(r["q_measured"])
        assert np.all(np.abs(q - r["q_star"]) <= 6 * math.sqrt(2 / n) * r["q_star"] / math.sqrt(seeds))
    chaotic = next(r for r in correlations if r["phase"] == "chaotic" and r["c0"] == 0.9)
    assert max(chaotic["width_error"]) > 1.5 * chaotic["width_error"][0]  # errors grow near c = 1 there


def test_the_three_phases_end_where_the_theory_says(correlations):
    last = {(r["phase"], r["c0"]): r["measured"][-1] for r in correlations}
    assert [r["phase"] for r in correlations[::2]] == ["ordered", "critical", "chaotic"]
    assert last[("ordered", 0.1)] > 0.95 and last[("ordered", 0.9)] > 0.99  # inputs become alike
    assert 0.5 < last[("critical", 0.1)] < 0.85  # still climbing, polynomially
    chaotic = next(r for r in correlations if r["phase"] == "chaotic")
    assert abs(last[("chaotic", 0.1)] - chaotic["c_star"]) < 0.1  # towards c* = 0.30 from below
    assert abs(last[("chaotic", 0.9)] - chaotic["c_star"]) < 0.2  # ... and from above
    assert last[("ordered", 0.1)] > last[("critical", 0.1)] > last[("chaotic", 0.1)] + 0.2


# ---------------------------------------------------------------------------------- spectra
def test_orthogonal_tanh_at_small_q_is_isometric_and_gaussian_weights_are_not():
    records = studies.jacobian_spectra(depths=(4, 16), width=48, seeds=(0, 1))
    by = {(r["activation"], r["weights"], r["depth"]): r for r in records}
    assert len(records) == 8
    for depth in (4, 16):
        ortho = by[("tanh", "orthogonal", depth)]
        assert ortho["mean"] == pytest.approx(1.0, abs=0.05)
        assert ortho["variance"] == pytest.approx(ortho["predicted_variance"], rel=0.35)
        assert by[("tanh", "gaussian", depth)]["variance"] > 20 * ortho["variance"]
        assert by[("relu", "orthogonal", depth)]["variance"] > 20 * ortho["variance"]
        assert len(ortho["eigenvalues"]) == 2 * 48 and ortho["eigenvalues"] == sorted(ortho["eigenvalues"])
    relu = by[("relu", "orthogonal", 4)]
    assert relu["sigma_w2"] == pytest.approx(2.0) and relu["sigma_b2"] == 0.0
    assert np.mean(np.array(relu["eigenvalues"]) < 1e-12) > 0.3  # dead ReLUs: J loses rank


def test_spectra_network_is_what_it_claims():
    sw, sb = studies.critical_point("tanh", 1 / 64)
    model = studies.spectra_network("tanh", "orthogonal", 3, 16, sw, sb, rng=1)
    weights = [m.weight.data for m in model if hasattr(m, "weight")]
    assert all(w.dtype == np.float64 for w in weights)
    for w in weights:  # every singular value √σ_w²
        np.testing.assert_allclose(w.T @ w, sw * np.eye(16), atol=1e-12)
    x = np.random.default_rng(0).standard_normal((1, 16)) * 0.1
    h, product = x, np.eye(16)
    for layer in (m for m in model if hasattr(m, "weight")):  # J = W_1 D_1 W_2 D_2 ... for row vectors
        h = h @ layer.weight.data + layer.bias.data
        product = product @ layer.weight.data @ np.diag(1 - np.tanh(h[0]) ** 2)
        h = np.tanh(h)
    s = isometry.singular_values(model, x)[0]
    np.testing.assert_allclose(s, np.linalg.svd(product, compute_uv=False), rtol=1e-10)


# ------------------------------------------------------------------------------------ the tent
def test_trainable_depth_walks_down_a_column():
    assert studies.trainable_depth([10, 20, 30], [0.9, 0.7, 0.3], 0.5) == pytest.approx(25.0)
    assert studies.trainable_depth([10, 20, 30], [0.9, 0.8, 0.6], 0.5) == 30.0
    assert studies.trainable_depth([10, 20, 30], [0.4, 0.8, 0.6], 0.5) is None
    assert studies.trainable_depth([10, 20], [0.9, None], 0.5) == 10.0


def test_calibration_finds_the_multiple_that_separates_the_points():
    xi = {1.0: 2.0, 2.0: None, 3.0: 5.0}  # None: infinite
    points = [{"sigma_w2": s, "depth": d, "train_accuracy": 0.9 if (xi[s] is None or d <= 3 * xi[s]) else 0.1}
              for s in xi for d in (4, 8, 16, 32)]  # fmt: skip
    c = studies.calibrate_depth_multiple(points, xi, 0.5)
    assert c["agreement"] == 1.0 and c["misclassified"] == [] and c["status"] == "calibrated"
    # trainable ratios L/ξ_c: 0 (ξ_c infinite), 0.8, 1.6, 2; untrainable: 3.2, 4, 6.4, 8, 16
    assert (c["k_low"], c["k_high"]) == (2.0, 3.2) and c["k"] == pytest.approx(math.sqrt(6.4))
    assert (c["best_low"], c["best_high"]) == (2.0, 3.2)
    assert c["paper_agreement"] == pytest.approx(10 / 12)  # k = 6 wrongly admits (1, 8) and (3, 16)
    none = studies.calibrate_depth_multiple([{**p, "train_accuracy": 0.1} for p in points], xi, 0.5)
    assert none["k"] is None and none["status"] == "no point trained"


class _Recording(Executor):
    """A user's own executor: runs each task at once and remembers what it was given."""

    def __init__(self):
        self.tasks = []

    def submit(self, fn, /, *args, **kwargs):
        self.tasks.append(args[0])
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.fixture(scope="module")
def tent():
    executor = _Recording()
    result = studies.trainability_tent(
        (1.0, 1.75, 4.0), (8, 24), width=32, epochs=6, limit=400, seeds=(0, 1), executor=executor,
        threshold=0.3,
    )  # fmt: skip
    return result, executor


def test_the_tent_trains_the_critical_column_deepest(tent):
    """Ordered σ_w² = 1 (ξ_c = 3.6) and chaotic 4 (ξ_c = 7.0) against the critical 1.75 at 24
    layers, 78 SGD steps: the critical column keeps some accuracy, the far-off ones lose it. (Over
    the seed pairs (0, 1) ... (6, 7) the mean margin was 0.19 to 0.33, and every single critical
    run beat every far-off run of its pair.)"""
    r, _ = tent
    acc = {(p["sigma_w2"], p["depth"]): p["train_accuracy"] for p in r["points"]}
    assert acc[(1.75, 24)] > acc[(1.0, 24)] + 0.12 and acc[(1.75, 24)] > acc[(4.0, 24)] + 0.12
    for seed in (0, 1):
        one = {(x["sigma_w2"], x["depth"]): x["train_accuracy"] for x in r["runs"] if x["seed"] == seed}
        assert one[(1.75, 24)] > max(one[(1.0, 24)], one[(4.0, 24)])
    assert r["peak"]["sigma_w2"] == 1.75 and r["peak"]["distance"] < 0.25


def test_the_tent_runs_every_point_and_seed_through_the_given_executor(tent):
    r, executor = tent
    assert r["executor"] == "_Recording" and r["jobs"] is None
    assert [(t["depth"], t["sigma_w2"], t["seed"]) for t in executor.tasks] == [
        (d, s, k) for d in (8, 24) for s in (1.0, 1.75, 4.0) for k in (0, 1)
    ]
    assert len(r["runs"]) == 12 and r["errors"] == [] and len(r["points"]) == 6
    assert np.array(r["accuracy"]).shape == (2, 3) and r["steps"] == 6 * math.ceil(400 / 32)
    assert r["xi_c"][1] > 100 and r["xi_c"][0] == pytest.approx(3.63, abs=0.01)
    point = r["points"][0]
    pair = [x["train_accuracy"] for x in r["runs"][:2]]
    assert point["train_accuracy"] == pytest.approx(np.mean(pair))
    assert point["train_accuracy_std"] == pytest.approx(np.std(pair, ddof=1))
    assert r["calibration"]["points"] == 6
    finite = [x for x in r["xi_curve"]["xi_c"] if x is not None]
    assert len(r["xi_curve"]["sigma_w2"]) > 60 and max(finite) > 500  # the spike at the critical point


def test_a_tent_task_that_fails_reports_its_error():
    config = Config(data="no/such/folder", depth=2, width=4, limit=10)
    out = studies.tent_task({"config": config.to_dict(), "sigma_w2": 1.0, "sigma_b2": 0.05, "depth": 2,
                             "seed": 0})  # fmt: skip
    assert out["error"] and out["sigma_w2"] == 1.0 and out["seed"] == 0 and "train_accuracy" not in out


def test_the_tent_checks_its_arguments_before_training():
    with pytest.raises(ValueError, match="sigma_w2"):
        studies.trainability_tent((0.0, 1.0), (4,))
    with pytest.raises(ValueError, match="repeated"):
        studies.trainability_tent((1.0, 1.0), (4,))
    with pytest.raises(ValueError, match="seeds"):
        studies.trainability_tent((1.0,), (4,), seeds=())
    with pytest.raises(ValueError, match="momentum"):
        studies.trainability_tent((1.0,), (4,), optimizer="adam", momentum=0.9)
    with pytest.raises(ValueError, match="dies out"):  # σ_b² = 0, σ_w² <= 1: q* = 0, no ξ_c
        studies.trainability_tent((1.0, 2.0), (4,), sigma_b2=0.0)
    with pytest.raises(ValueError, match="no finite q"):
        studies.correlation_study((1.0, 2.0), sigma_b2=0.0)


def test_the_depth_scale_curve_leaves_gaps_where_the_signal_dies_out():
    r = studies.depth_scale_curve(sigma_b2=0.0, sigma_w2=[0.8, 1.0, 1.5], references=(0.9,))
    assert r["q_star"][:2] == [0.0, 0.0] and r["xi_c"][:2] == [None, None] and r["chi1"][1] is None
    assert r["xi_c"][2] > 0 and r["peak_sigma_w2"] == 1.5 and r["references"][0]["xi_c"] is None


# ------------------------------------------------------------------------------- the grid runner
def _square(task):
    if task["x"] < 0:
        raise ValueError("negative")
    return {"y": task["x"] ** 2}


def test_run_tasks_keeps_task_order_and_reports_failures():
    seen = []
    done = grid.run_tasks(_square, [{"x": 3}, {"x": -1}, {"x": 2}], jobs=1,
                          on_result=lambda r, k, n: seen.append((k, n)),
                          on_error=lambda task, error: {"x": task["x"], "error": str(error)})  # fmt: skip
    assert done.results == [{"y": 9}, {"x": -1, "error": "negative"}, {"y": 4}]
    assert seen == [(1, 3), (2, 3), (3, 3)] and done.executor == "_InlineExecutor" and done.jobs == 1
    with pytest.raises(ValueError, match="jobs"):
        grid.run_tasks(_square, [], jobs=0)


# ---------------------------------------------------------------------------------- the figures
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def records(correlations, tent):
    return {
        "phase": studies.phase_diagram(["tanh", "erf"], sigma_w2=[0.5, 1.5, 2.5], sigma_b2=[0.0, 0.05, 0.1],
                                       q_stars=[1e-3, 0.1, 1.0]),
        "xi": studies.depth_scale_curve(sigma_w2=[1.0, 1.5, 1.75, 2.0, 3.0]),
        "corr": correlations,
        "tent": tent[0],
        "jacobian": studies.jacobian_spectra(depths=(2, 4), width=8, seeds=(0,)),
    }


DRAW = {
    "phase": plotting.plot_phase_diagram,
    "xi": plotting.plot_depth_scale,
    "corr": plotting.plot_correlations,
    "tent": plotting.plot_trainability_tent,
    "jacobian": plotting.plot_jacobian_spectra,
}


@pytest.mark.parametrize("name", sorted(DRAW))
def test_each_theory_figure_writes_a_png_or_explains_the_extra(name, records, tmp_path):
    path = tmp_path / f"{name}.png"
    if HAVE_MATPLOTLIB:
        fig = DRAW[name](records[name], path)
        assert path.read_bytes()[:8] == PNG and [p.name for p in tmp_path.iterdir()] == [path.name]
        titles = " ".join(ax.get_title() for ax in fig.axes)
        expected = {"phase": "erf: log₁₀ χ₁", "xi": "ξ_c diverges", "corr": "chaotic: σ_w² = 3.000",
                    "tent": "mean of 2 seed(s)", "jacobian": "relu, gaussian"}  # fmt: skip
        assert expected[name] in titles
    else:
        with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\""):
            DRAW[name](records[name], path)
        assert not path.exists()


def test_the_tent_figure_draws_the_calibrated_and_the_paper_s_multiple(records):
    if not HAVE_MATPLOTLIB:
        with pytest.raises(ImportError, match="plot"):
            plotting.plot_trainability_tent(records["tent"])
        return
    fig = plotting.plot_trainability_tent(records["tent"])
    labels = fig.axes[0].get_legend_handles_labels()[1]
    k = records["tent"]["calibration"]["k"]
    assert any(label.startswith(f"{k:.2f} ξ_c (calibrated") for label in labels)
    assert "6 ξ_c (the paper)" in labels and any("critical σ_w² = 1.761" in label for label in labels)


@pytest.mark.parametrize("name", ["phase", "tent"])
def test_missing_matplotlib_is_explained_for_the_theory_figures(name, records, tmp_path, monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\""):
        DRAW[name](records[name], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plotting_exports_the_theory_figures():
    for name in ("plot_phase_diagram", "plot_depth_scale", "plot_correlations", "plot_trainability_tent",
                 "plot_jacobian_spectra"):  # fmt: skip
        assert name in plotting.__all__ and callable(getattr(plotting, name))
