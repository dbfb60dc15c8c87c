"""DataLoader batching and shuffling; flatten, scale and standardize helpers."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet.data import DataLoader, Standardizer, flatten, scale, standardize


def _data(n=23):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int64)
    return x, y


@given(n=st.integers(0, 60), bs=st.integers(1, 25), drop=st.booleans(), shuffle=st.booleans())
def test_each_epoch_visits_each_sample_once_and_len_matches(n, bs, drop, shuffle):
    x, y = _data(n)
    loader = DataLoader(x, y, bs, shuffle=shuffle, drop_last=drop, rng=0)
    batches = list(loader)
    assert len(batches) == len(loader) == (n // bs if drop else math.ceil(n / bs))
    seen = np.concatenate([b[1] for b in batches]) if batches else np.array([], int)
    assert len(seen) == len(np.unique(seen))
    assert len(seen) == (n // bs * bs if drop else n)
    for xb, yb in batches:
        assert np.array_equal(xb[:, 0], 2 * yb)  # x and y stay aligned
        assert len(xb) == bs or (not drop and len(xb) == n % bs)
    if not shuffle:
        assert np.array_equal(seen, np.arange(len(seen)))


def test_seeded_order_is_reproducible_and_changes_every_epoch():
    x, y = _data(50)
    a = DataLoader(x, y, 10, rng=123)
    b = DataLoader(x, y, 10, rng=123)
    epochs_a = [np.concatenate([yb for _, yb in a]) for _ in range(3)]
    epochs_b = [np.concatenate([yb for _, yb in b]) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b, strict=True):
        assert np.array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    assert not np.array_equal(epochs_a[0], np.arange(50))
    c = DataLoader(x, y, 10, rng=124)
    assert not np.array_equal(np.concatenate([yb for _, yb in c]), epochs_a[0])


def test_generator_rng_is_used_as_given():
    x, y = _data(30)
    g = np.random.default_rng(5)
    order = np.concatenate([yb for _, yb in DataLoader(x, y, 7, rng=g)])
    assert np.array_equal(order, np.random.default_rng(5).permutation(30))


def test_default_rng_follows_manual_seed_at_iteration_time():
    x, y = _data(40)
    loader = DataLoader(x, y, 8)  # created before seeding
    tn.manual_seed(7)
    first = np.concatenate([yb for _, yb in loader])
    tn.manual_seed(7)
    second = np.concatenate([yb for _, yb in loader])
    assert np.array_equal(first, second)
    assert np.array_equal(first, np.random.default_rng(7).permutation(40))


def test_shuffle_is_uniform_over_first_position():
    """Each sample leads the epoch with probability 1/n: chi-square style bound, 6 standard errors."""
    n, epochs = 5, 2000
    x, y = _data(n)
    loader = DataLoader(x, y, n, rng=0)
    counts = np.bincount([next(iter(loader))[1][0] for _ in range(epochs)], minlength=n)
    p = 1 / n
    se = math.sqrt(epochs * p * (1 - p))
    assert np.all(np.abs(counts - epochs * p) < 6 * se)


def test_accepts_tensors_and_yields_numpy():
    x, y = _data(9)
    loader = DataLoader(tn.tensor(x), tn.tensor(y), 4, shuffle=False)
    xb, yb = next(iter(loader))
    assert isinstance(xb, np.ndarray) and isinstance(yb, np.ndarray)
    assert np.array_equal(xb, x[:4]) and yb.dtype == np.int64


def test_unshuffled_batches_are_views():
    x, y = _data(10)
    xb, _ = next(iter(DataLoader(x, y, 5, shuffle=False)))
    assert np.shares_memory(xb, x)


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.zeros(3), np.zeros(4), 2), ValueError, "same length, got 3 and 4"),
        ((np.zeros(3), np.zeros(3), 0), ValueError, "batch_size must be an int >= 1, got 0"),
        ((np.zeros(3), np.zeros(3), "2"), TypeError, "DataLoader: batch_size must be an int"),
        ((np.zeros(3), np.zeros(3), 2.0), TypeError, "batch_size must be an int"),
        ((np.zeros(3), np.zeros(3), True), TypeError, "batch_size must be an int"),
        ((np.float32(1), np.zeros(3), 2), ValueError, "0-D"),
        ((None, np.zeros(3), 2), TypeError, "x must be an array"),
    ],
)
def test_bad_arguments(args, exc, match):
    with pytest.raises(exc, match=match):
        DataLoader(*args)


def test_bad_rng_type():
    with pytest.raises(TypeError, match="rng"):
        DataLoader(np.zeros(3), np.zeros(3), 1, rng="seed")
    with pytest.raises(ValueError, match="rng: seed must be an int >= 0, got -1"):
        DataLoader(np.zeros(3), np.zeros(3), 1, rng=-1)


# ---------------------------------------------------------------- helpers


def test_flatten_and_scale():
    x = np.full((4, 28, 28), 255, dtype=np.uint8)
    x[0, 0, 0] = 0
    flat = flatten(x)
    assert flat.shape == (4, 784) and np.shares_memory(flat, x)
    s = scale(flat)
    assert s.dtype == np.float32 and s.max() == 1.0 and s[0, 0] == 0.0
    assert scale(np.array([2, 4]), max_value=4, dtype=np.float64).tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match="max_value"):
        scale(x, max_value=0)
    with pytest.raises(TypeError, match="scale: max_value must be a finite number > 0"):
        scale(x, max_value="255")
    with pytest.raises(ValueError, match="0-D"):
        flatten(np.float32(3))


def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, (1000, 5))
    test = rng.normal(-10.0, 0.1, (200, 5))
    st_ = Standardizer().fit(train)
    out_train, out_test = st_.transform(train), st_.transform(test)
    assert abs(out_train.mean()) < 1e-5 and abs(out_train.std() - 1) < 1e-5
    expected = (test - train.mean()) / train.std()
    np.testing.assert_allclose(out_test, expected, rtol=1e-5)
    a, b = standardize(train, test)
    np.testing.assert_allclose(a, out_train, rtol=1e-6)
    np.testing.assert_allclose(b, out_test, rtol=1e-6)


def test_per_feature_standardizer_handles_constant_features():
    x = np.zeros((10, 3))
    x[:, 0] = np.arange(10)
    out = Standardizer(per_feature=True).fit_transform(x)
    assert np.allclose(out[:, 1:], 0.0)
    assert abs(out[:, 0].mean()) < 1e-6 and abs(out[:, 0].std() - 1) < 1e-6
    with pytest.raises(ValueError, match="feature shape"):
        Standardizer(per_feature=True).fit(x).transform(np.zeros((2, 4)))


def test_standardizer_must_be_fitted_first():
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.zeros((2, 2)))
