"""``edge_of_chaos``: weights on the mean-field critical line, their bias partner, and how the sweep,
the studies and examples/train.py pair the two. (The moments of its default draw are checked with
every other scheme in test_init_schemes.py.)"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from tinynet import init
from tinynet.experiments.cli import config_from_args
from tinynet.experiments.studies import resolve_scheme
from tinynet.theory import meanfield as mf

# Schoenholz et al. 2017 (fig. 1) and Pennington et al. 2017: tanh's critical sigma_w2 per sigma_b2
KNOWN = {0.01: 1.424, 0.05: 1.761, 0.1: 1.986, 0.3: 2.505}


@pytest.mark.parametrize(("sigma_b2", "sigma_w2"), sorted(KNOWN.items()))
def test_tanh_weights_have_the_critical_variance(sigma_b2, sigma_w2):
    strategy = init.get(f"edge_of_chaos(activation='tanh', sigma_b2={sigma_b2})")
    assert strategy.sigma_w2 == pytest.approx(sigma_w2, abs=0.003)
    fan_in, n = 400, 400 * 300
    w = strategy((fan_in, 300), rng=3, dtype=np.float64)
    std = math.sqrt(strategy.sigma_w2 / fan_in)
    assert abs(w.mean()) <= 6 * std / math.sqrt(n)
    assert abs(w.std(ddof=1) - std) <= 6 * std * math.sqrt(2 / (4 * n))  # normal: kurtosis 3
    assert mf.chi1("tanh", strategy.sigma_w2, sigma_b2) == pytest.approx(1.0, abs=1e-6)


def test_the_bias_partner_is_the_bias_variance_of_the_critical_point():
    strategy = init.get("edge_of_chaos(activation='tanh', sigma_b2=0.05)")
    assert strategy.bias_partner == f"normal(std={math.sqrt(0.05)!r})"
    assert init.get(strategy.bias_partner).std == pytest.approx(math.sqrt(0.05))
    assert init.get("edge_of_chaos(activation='tanh', sigma_b2=0.0)").bias_partner == "zeros"


def test_relu_is_critical_only_at_he():
    assert init.get("edge_of_chaos(activation='relu', sigma_b2=0.0)").sigma_w2 == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"edge_of_chaos: .*'relu' has no critical point .*\(2, 0\)"):
        init.get("edge_of_chaos(activation='relu', sigma_b2=0.05)")


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("edge_of_chaos(activation='tahn')", ValueError, r"tahn.*tanh"),
        ("edge_of_chaos(activation=3)", TypeError, "activation must be a name"),
        ("edge_of_chaos(sigma_b2=-0.1)", ValueError, "sigma_b2 must be"),
        ("edge_of_chaos(sigma_b2=1e400)", ValueError, "sigma_b2"),
    ],
)
def test_bad_arguments_are_refused_at_get(spec, error, match):
    with pytest.raises(error, match=match):
        init.get(spec)


def test_the_spec_prints_and_parses_back():
    strategy = init.get("edge_of_chaos(activation='erf', sigma_b2=0.1)")
    assert repr(strategy) == "edge_of_chaos(activation='erf', sigma_b2=0.1)"
    assert init.get(repr(strategy)) == strategy
    assert init.get(strategy.get_config()) == strategy


def test_sweeps_and_studies_pair_the_scheme_with_its_biases_unless_told_otherwise():
    spec = "edge_of_chaos(activation='tanh', sigma_b2=0.1)"
    assert resolve_scheme(spec) == (spec, f"normal(std={math.sqrt(0.1)!r})")
    assert resolve_scheme(spec, "normal(std=0.5)") == (spec, "normal(std=0.5)")
    assert resolve_scheme("he") == ("he", "zeros")


def test_train_py_takes_the_partner_when_no_bias_init_is_given():
    path = Path(__file__).resolve().parent.parent / "examples" / "train.py"
    spec = importlib.util.spec_from_file_location("example_train_eoc", path)
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    parser = train.build_parser()
    eoc = "edge_of_chaos(activation='tanh', sigma_b2=0.05)"
    given = config_from_args(parser, parser.parse_args(["--init", eoc, "--activation", "tanh"]))
    assert given.bias_init == f"normal(std={math.sqrt(0.05)!r})"
    told = config_from_args(parser, parser.parse_args(["--init", eoc, "--bias-init", "zeros"]))
    assert told.bias_init == "zeros"
    assert config_from_args(parser, parser.parse_args(["--init", "he"])).bias_init == "zeros"
