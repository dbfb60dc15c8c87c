"""Strategies are values: names, specs, configs, repr round trips, registration, safe parsing."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from tinynet import init
from tinynet.init import registry


@pytest.fixture
def clean_registry():
    """Registrations made by a test are undone afterwards."""
    saved = dict(registry._REGISTRY)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


# --------------------------------------------------------------------------- repr and config
def test_repr_is_the_spec():
    assert repr(init.get("he_normal(mode='fan_out')")) == "he_normal(mode='fan_out')"
    assert repr(init.get("normal(std=0.1)")) == "normal(std=0.1)"
    assert repr(init.get("kaiming")) == "he_normal()"
    assert repr(init.get("glorot")) == "xavier_uniform()"
    assert repr(init.get("constant(0.5)")) == "constant(value=0.5)"
    assert repr(init.get("uniform(low=-1, high=2)")) == "uniform(low=-1.0, high=2.0)"
    assert repr(init.VarianceScaling(2.0, "fan_avg", "uniform")) == (
        "variance_scaling(scale=2.0, mode='fan_avg', distribution='uniform')"
    )


@pytest.mark.parametrize("name", init.names())
def test_every_name_round_trips_through_repr_and_config(name):
    strategy = init.get(name)
    assert isinstance(strategy, init.Initializer)
    assert init.get(repr(strategy)) == strategy
    config = strategy.get_config()
    assert config["name"] in init.names()
    assert init.get(config) == strategy
    assert init.get(name) == init.get(config["name"])  # alias and canonical name agree


@pytest.mark.parametrize(
    "spec",
    [
        "he_normal(gain=1.0, mode='fan_out')",
        "variance_scaling(scale=2.0, mode='fan_geo_avg', distribution='normal', gain='auto')",
        "truncated_normal(mean=0.5, std=2.0, a=-1.0, b=3.0)",
        "sparse(sparsity=0.5, std=0.1)",
        "orthogonal(gain='relu')",
        "lsuv(tol=0.05, max_iter=3)",
        "uniform(scale=0.2)",
    ],
)
def test_non_default_arguments_round_trip(spec):
    strategy = init.get(spec)
    assert init.get(repr(strategy)) == strategy
    assert init.get(strategy.get_config()) == strategy
    assert init.get(spec) != init.get(spec.split("(")[0])  # the arguments matter


def test_config_holds_every_argument_and_values_are_plain_python():
    config = init.get("he_uniform(mode='fan_out')").get_config()
    assert config == {"name": "he_uniform", "gain": 2**0.5, "mode": "fan_out"}
    strategy = init.Normal(std=np.float32(0.5))
    assert type(strategy.get_config()["std"]) is float
    assert repr(strategy) == "normal(std=0.5)"


def test_equality_hash_and_replace():
    a, b = init.get("he_normal(mode='fan_out')"), init.get({"name": "he", "mode": "fan_out"})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != init.get("he_normal")
    assert a.replace(gain=3.0) == init.get("he_normal(gain=3.0, mode='fan_out')")
    with pytest.raises(TypeError, match="std"):
        a.replace(std=1.0)


# --------------------------------------------------------------------------- what get accepts
def test_get_accepts_instances_classes_configs_and_callables():
    strategy = init.HeNormal()
    assert init.get(strategy) is strategy
    assert init.get(init.XavierUniform) == init.get("xavier_uniform")
    assert init.get({"name": "normal", "std": 0.3}) == init.Normal(std=0.3)

    def halves(shape, *, fan_in, rng):
        return np.full(shape, 0.5 + 0 * fan_in)

    wrapped = init.get(halves)
    out = wrapped((2, 3), fan_in=4, dtype=np.float64)
    assert out.dtype == np.float64 and np.all(out == 0.5)
    assert init.get(lambda shape, **kw: np.ones(shape))((3,)).dtype == np.float32
    assert "halves" in repr(wrapped)
    with pytest.raises(ValueError, match="register"):
        wrapped.get_config()


def test_callable_with_wrong_output_shape_is_reported():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        init.get(lambda shape, **kw: np.ones(5))((2, 3))


def test_get_rejects_unsupported_types():
    for bad in (None, 3.5, ["normal"]):
        with pytest.raises(TypeError, match="spec"):
            init.get(bad)
    with pytest.raises(ValueError, match="name"):
        init.get({"std": 0.1})


# --------------------------------------------------------------------------- errors
def test_unknown_name_gives_closest_match_and_lists_names():
    with pytest.raises(ValueError) as err:
        init.get("he_normall")
    message = str(err.value)
    assert "Did you mean 'he_normal'" in message
    assert all(name in message for name in init.names())
    with pytest.raises(ValueError, match="Did you mean 'xavier_uniform'"):
        init.get("xavier_uniformm(gain=1.0)")


def test_wrong_argument_names_the_argument():
    with pytest.raises(TypeError, match="sd") as err:
        init.get("normal(sd=1.0)")
    assert "mean, std" in str(err.value)
    with pytest.raises(TypeError, match="std"):
        init.get({"name": "he", "std": 1.0})
    with pytest.raises(TypeError, match="argument"):
        init.get("zeros(1.0)")


@pytest.mark.parametrize(
    "spec",
    [
        "normal(",
        "normal(std=0.1",
        "",
        "1 + 2",
        "normal(std=0.1)(1)",
        "init.normal(std=0.1)",
        "normal[0]",
        "normal(*[0.1])",
        "normal(**{'std': 0.1})",
        "normal(std=x)",
        "normal(std=1 + 2)",
        "normal(std=[i for i in range(3)])",
        "lambda: 0",
    ],
)
def test_malformed_specs_are_rejected(spec):
    with pytest.raises(ValueError, match=r"init\.get"):
        init.get(spec)


def test_overlong_spec_is_rejected():
    with pytest.raises(ValueError, match="too long"):
        init.get("normal(std=" + "0" * 5000 + ")")


def test_code_in_a_spec_is_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sentinel: list[int] = []
    monkeypatch.setattr(builtins, "tinynet_sentinel", sentinel, raising=False)
    attacks = [
        "normal(std=__import__('os').system('touch PWNED'))",
        "normal(std=open('PWNED', 'w'))",
        "normal(std=tinynet_sentinel.append(1) or 0.1)",
        "normal(std=(tinynet_sentinel.append(1), 0.1)[1])",
        "tinynet_sentinel.append(1)",
        "normal(std=().__class__.__bases__[0].__subclasses__())",
        "__import__('os').system('touch PWNED')",
        'exec(\'open("PWNED", "w")\')',
        "normal(std=0.1) if tinynet_sentinel.append(1) else zeros",
    ]
    for spec in attacks:
        with pytest.raises(ValueError):
            init.get(spec)
    assert not (tmp_path / "PWNED").exists()
    assert sentinel == []
    # the sentinel is reachable by eval: this proves the specs above *would* have mutated it
    eval("tinynet_sentinel.append(1)")  # the control experiment
    assert sentinel == [1]


# --------------------------------------------------------------------------- registration
def test_register_a_function_with_parameters(clean_registry):
    @init.register("scaled_ones")
    def scaled_ones(shape, *, fan_in, dtype, scale=1.0):
        return np.full(shape, scale / fan_in, dtype=dtype)

    assert "scaled_ones" in init.names()
    strategy = init.get("scaled_ones(scale=4.0)")
    np.testing.assert_array_equal(strategy((2, 2), fan_in=2.0), np.full((2, 2), 2.0))
    assert repr(strategy) == "scaled_ones(scale=4.0)"
    assert init.get(repr(strategy)) == strategy == init.get(strategy.get_config())
    assert strategy.get_config() == {"name": "scaled_ones", "scale": 4.0}
    assert scaled_ones((1,), fan_in=1, dtype=np.float64)[0] == 1.0  # returned unchanged
    with pytest.raises(TypeError, match="scael"):
        init.get("scaled_ones(scael=2.0)")


def test_register_a_class_with_aliases(clean_registry):
    @init.register("halving", aliases=("halve",))
    class Halving(init.Initializer):
        """Every element 1 / 2**k."""

        def __init__(self, k: int = 1) -> None:
            self.k = k

        def sample(self, shape, fans, rng):
            return np.full(shape, 0.5**self.k)

    assert {"halving", "halve"} <= set(init.names())
    strategy = init.get("halve(k=3)")
    assert isinstance(strategy, Halving) and repr(strategy) == "halving(k=3)"
    assert np.all(strategy((2,)) == 0.125)
    assert init.get(strategy.get_config()) == strategy

    class Unregistered(Halving):
        pass

    assert repr(Unregistered()).startswith("Unregistered(")  # never the parent's spec name


def test_register_rejects_duplicates_bad_names_and_non_initializer_classes(clean_registry):
    with pytest.raises(ValueError, match="already registered"):
        init.register("he")(lambda shape: np.zeros(shape))
    with pytest.raises(ValueError, match="identifier"):
        init.register("my init")(lambda shape: np.zeros(shape))
    with pytest.raises(TypeError, match="Initializer"):
        init.register("plain_class")(dict)
    init.register("he", override=True)(lambda shape, **kw: np.zeros(shape))
    assert np.all(init.get("he")((3,)) == 0)


def test_registration_is_undone_by_the_fixture():
    assert "scaled_ones" not in init.names()
    assert repr(init.get("he")) == "he_normal()"


def test_parse_spec_splits_without_evaluating():
    assert init.parse_spec("constant(0.5)") == ("constant", [0.5], {})
    assert init.parse_spec(" he ") == ("he", [], {})
    assert init.parse_spec("x(a=-2, b=(1, 'two'), c=None)") == (
        "x",
        [],
        {"a": -2, "b": (1, "two"), "c": None},
    )
