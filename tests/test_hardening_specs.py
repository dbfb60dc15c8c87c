"""Spec strings under attack: whatever the text, ``init.get`` either returns an Initializer whose
draws on a small shape are finite (in float32 and float64), or raises ValueError/TypeError at once.

Nothing else: no OverflowError (400-digit integers), no RecursionError (hundreds of unary signs or
nested brackets), no bounds that pass ``init.get`` and fail when sampled (``uniform(low=-1e308,
high=1e308)``), no hang. Hypothesis generates random text, registered names with random literal
arguments, deep nesting and huge numbers (bounded examples; derandomized under CI by the profile in
conftest.py); every example runs under a hard time limit.
"""

from __future__ import annotations

import contextlib
import math
import signal
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet import init, nn, optim
from tinynet.init.gains import NONLINEARITIES
from tinynet.init.registry import MAX_SPEC_DEPTH, MAX_SPEC_LENGTH
from tinynet.init.schemes import DISTRIBUTIONS, MAX_MAGNITUDE, MODES

SHAPE = (4, 5)
SECONDS = 5.0  # per spec: init.get and two draws take milliseconds; a hang fails instead


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise _Hang(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(spec: Any) -> str:
    """``"refused"`` (ValueError/TypeError from init.get) or ``"accepted"`` (an Initializer whose
    draws of SHAPE are finite in float32 and float64, without an overflow warning); any other
    exception, a non-finite draw or a hang fails the test."""
    with _time_limit(SECONDS), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow in a draw or in its cast
        try:
            strategy = init.get(spec)
        except (ValueError, TypeError):
            return "refused"
        assert isinstance(strategy, init.Initializer)
        for dtype in (np.float32, np.float64):
            out = strategy(SHAPE, rng=0, dtype=dtype)
            assert out.shape == SHAPE and out.dtype == dtype
            assert np.isfinite(out).all(), f"{spec!r} drew non-finite values in {dtype.__name__}"
    return "accepted"


# ---------------------------------------------------------------------------- the generators
def render(value: Any) -> str:
    """Spec text of a literal (infinite floats as 1e999, which Python reads as inf)."""
    if isinstance(value, float) and math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(render(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


EDGES = [0.0, -0.0, 1e-320, 0.5, 1.0, 2.0, 37.0, 40.0, MAX_MAGNITUDE, -MAX_MAGNITUDE,
         1.0000001 * MAX_MAGNITUDE, 1e38, 1e300, 1e308, -1e308, math.inf, -math.inf]  # fmt: skip
numbers = st.one_of(
    st.integers(-5, 5),
    st.integers(-(10**450), 10**450),
    st.floats(-10, 10),
    st.floats(allow_nan=False),
    st.sampled_from(EDGES),
    st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=1e6),
)
words = st.sampled_from((*MODES, *DISTRIBUTIONS, *NONLINEARITIES, "auto", "", "fan")) | st.text(
    max_size=8
)
atoms = numbers | words | st.booleans() | st.none()
literals = st.recursive(
    atoms, lambda kids: st.lists(kids, max_size=3) | st.lists(kids, max_size=3).map(tuple),
    max_leaves=6,
)  # fmt: skip


def _parameters(name: str) -> list[str]:
    config = init.get(name).get_config()
    return [key for key in config if key != "name"]


#: argument values: often plausible (so that many specs are accepted and sampled), often not
values = st.floats(-3, 3) | st.floats(0.001, 10) | st.sampled_from(EDGES) | words | literals


@st.composite
def calls(draw: Any) -> str:
    """A registered name called with random positional and keyword literals."""
    name = draw(st.sampled_from(init.names()))
    keys = draw(st.lists(st.sampled_from([*_parameters(name), "bogus"]), unique=True, max_size=4))
    parts = [render(v) for v in draw(st.lists(values, max_size=1))]
    parts += [f"{key}={render(draw(values))}" for key in keys]
    return f"{name}({', '.join(parts)})"


NESTINGS = [
    lambda n: "-" * n + "1",
    lambda n: "+" * n + "1",
    lambda n: "~" * n + "1",
    lambda n: "-(" * n + "1" + ")" * n,
    lambda n: "[" * n + "]" * n,
    lambda n: "(" * n + ",)" * n,
    lambda n: "[1, " * n + "1" + "]" * n,
    lambda n: "not " * n + "1",
    lambda n: "{1: " * n + "1" + "}" * n,
]
WRAPPERS = ["constant({})", "normal(std={})", "uniform(low={}, high=1.0)", "{}", "he(gain={})"]


@st.composite
def nested(draw: Any) -> str:
    """A literal nested at least MAX_SPEC_DEPTH levels deep (up to 3000), in a spec or alone."""
    depth = draw(st.integers(MAX_SPEC_DEPTH, MAX_SPEC_DEPTH + 8) | st.integers(MAX_SPEC_DEPTH, 3000))
    inner = draw(st.sampled_from(NESTINGS))(depth)
    return draw(st.sampled_from(WRAPPERS)).format(inner)


@st.composite
def huge(draw: Any) -> str:
    digits = draw(st.integers(300, MAX_SPEC_LENGTH))
    sign = draw(st.sampled_from(["", "-"]))
    number = draw(
        st.sampled_from(
            ["9" * digits, "1" + "0" * digits, "0x" + "f" * digits, "9" * digits + ".0",
             f"1e{digits}", f"1e-{digits}", f"{'9' * digits}j", "0b" + "1" * digits]
        )
    )  # fmt: skip
    return draw(st.sampled_from(WRAPPERS)).format(sign + number)


# ---------------------------------------------------------------------------- the fuzz tests
@settings(max_examples=150)
@given(st.text(max_size=120) | st.text(alphabet="abcdehilmnortu_()[]{}=,.-+~*0123456789e'\" ",
                                       max_size=120))  # fmt: skip
def test_random_text_is_accepted_or_refused_cleanly(text):
    outcome(text)


@settings(max_examples=400)
@given(calls())
def test_registered_names_with_random_literals(spec):
    outcome(spec)


@settings(max_examples=100)
@given(nested())
def test_deep_nesting_is_refused_cleanly(spec):
    assert outcome(spec) == "refused"


@settings(max_examples=100)
@given(huge())
def test_huge_numbers_are_refused_or_finite(spec):
    outcome(spec)


@settings(max_examples=100)
@given(
    name=st.sampled_from(init.names()),
    data=st.data(),
)
def test_config_dicts_with_random_values(name, data):
    keys = data.draw(st.lists(st.sampled_from([*_parameters(name), "bogus"]), unique=True, max_size=3))
    config = {"name": name, **{key: data.draw(values) for key in keys}}
    outcome(config)


# ---------------------------------------------------------------------------- the reported cases
@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("normal(std=" + "9" * 400 + ")", r"argument 'std' is an integer of 400 digits, outside"),
        ("constant(" + "1" * 400 + ")", "positional argument 0 .*float range"),
        ("constant(" + "-" * 600 + "1)", f"nested more than {MAX_SPEC_DEPTH} levels"),
        ("normal(std=" + "+" * 1500 + "1)", "nested more than"),
        ("constant(" + "(" * 300 + "1" + ")" * 300 + ")", "malformed spec"),  # the parser's limit
        ("constant(" + "[" * 40 + "]" * 40 + ")", "nested more than"),
        ("uniform(low=-1e308, high=1e308)", "uniform: low"),
        ("uniform(scale=1e308)", "uniform: scale"),
        ("normal(mean=1e308, std=1e308)", "normal: mean"),
        ("normal(std=1e200)", "normal: std"),
        ("truncated_normal(mean=0, std=1e308)", "truncated_normal: std"),
        ("truncated_normal(a=1e300, b=1e301)", "no probability mass"),
        ("truncated_normal(a=-1e999, b=-40)", "no probability mass"),
        ("constant(1e38)", "constant: value"),
        ("variance_scaling(scale=1e308)", "variance_scaling: scale"),
        ("variance_scaling(scale=1e30, gain=1e20)", r"gain \* sqrt\(scale\)"),
        ("he(gain=1e308)", "gain"),
        ("orthogonal(gain=1e31)", "orthogonal: gain"),
        ("identity(gain=1e31)", "identity: gain"),
        ("sparse(std=1e31)", "sparse: std"),
        ("constant(1e999j)", "non-finite number"),
        ("normal(std=" + "0" * 5000 + ")", "too long"),
    ],
)
def test_reported_specs_raise_value_error_naming_the_argument(spec, match):
    with _time_limit(SECONDS), pytest.raises(ValueError, match=match):
        init.get(spec)


def test_config_dicts_get_the_same_checks():
    with pytest.raises(ValueError, match="'std' is an integer of 401 digits"):
        init.get({"name": "normal", "std": 10**400})
    with pytest.raises(ValueError, match=r"integer of about 500[01] digits"):  # str() would fail
        init.get({"name": "normal", "std": 10**5000})
    loop: list[Any] = [1.0]
    loop.append(loop)
    with pytest.raises(TypeError, match="value"):  # a container holding itself: no endless walk
        init.get({"name": "constant", "value": loop})


def test_limits_leave_every_sensible_spec_alone():
    # nesting below the limit reaches the scheme's own check (a TypeError for a tuple)
    with pytest.raises(TypeError, match="value"):
        init.get("constant(" + "(" * 20 + "1," + ")" * 20 + ")")
    assert init.get("constant(-1)")(3)[0] == -1
    assert init.get("constant(" + "(" * 150 + "2" + ")" * 150 + ")").value == 2  # no AST depth
    # the largest magnitudes are accepted, and their draws are finite in float32
    for spec in [
        f"constant({MAX_MAGNITUDE})", f"normal(mean={-MAX_MAGNITUDE}, std={MAX_MAGNITUDE})",
        f"uniform(low={-MAX_MAGNITUDE}, high={MAX_MAGNITUDE})", f"he(gain={MAX_MAGNITUDE})",
        f"truncated_normal(mean={MAX_MAGNITUDE}, std={MAX_MAGNITUDE}, a=30, b=1e999)",
        f"variance_scaling(scale={MAX_MAGNITUDE}, distribution='uniform')",
        "truncated_normal(std=1.0, a=3.0, b=1e400)", "truncated_normal(a=-1e308, b=1e308)",
        "uniform(-0.0)", "uniform(low=0.0, high=-0.0)", "glorot(-0.0)", "he_uniform(gain=-0.0)",
    ]:  # fmt: skip  (a -0.0 scale or gain made numpy's uniform refuse "high - low < 0")
        assert outcome(spec) == "accepted", spec
    far = init.get("truncated_normal(std=1.0, a=37.0, b=1e999)")((50,), rng=1, dtype=np.float64)
    assert far.min() >= 37.0 and np.isfinite(far).all()


def test_fans_too_small_for_the_scale_fail_when_called_with_value_error():
    """Explicit fans are known only at call time: a std or bound beyond MAX_MAGNITUDE is refused
    there, never drawn as inf."""
    for name in ("he", "xavier_uniform", "variance_scaling", "default"):
        with pytest.raises(ValueError, match="too small"):
            init.get(name)((3, 4), fan_in=1e-70, fan_out=1e-70)


@pytest.mark.parametrize("huge", [10**400, -(10**5000)], ids=["400 digits", "-5000 digits"])
def test_every_numeric_argument_refuses_an_int_beyond_the_float_range_with_value_error(huge):
    params = nn.Linear(2, 2).parameters()
    with pytest.raises(ValueError, match=r"lr must be .*got an int of about \d+ digits"):
        optim.SGD(params, lr=huge)
    with pytest.raises(ValueError, match=r"got an int of about \d+ digits"):
        init.calculate_gain("leaky_relu", huge)
