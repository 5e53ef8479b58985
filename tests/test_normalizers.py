"""pynet.normalizers against the fit / transform / undo formulas of the
pynet.normalizers reference (docs/reference/normalizers.md)."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from pynet.normalizers import DecimalScaling, MinMax, Normalizer, ZScore

NORMALIZERS = {"DecimalScaling": DecimalScaling, "MinMax": MinMax, "ZScore": ZScore}


def reference_transform(name, fit_data, x):
    if name == "DecimalScaling":
        return ref.decimal_scaling_transform(x, ref.decimal_scaling_exponent(fit_data))
    if name == "MinMax":
        return ref.min_max_transform(x, *ref.min_max_fit(fit_data))
    return ref.z_score_transform(x, *ref.z_score_fit(fit_data))


def reference_undo(name, fit_data, x):
    if name == "DecimalScaling":
        return ref.decimal_scaling_undo(x, ref.decimal_scaling_exponent(fit_data))
    if name == "MinMax":
        return ref.min_max_undo(x, *ref.min_max_fit(fit_data))
    return ref.z_score_undo(x, *ref.z_score_fit(fit_data))


@pytest.fixture
def data(rng):
    # Columns on very different scales, one constant column.
    x = rng.normal(size=(20, 4)) * np.array([1.0, 30.0, 0.01, 0.0]) + np.array([5, -2, 0, 7])
    return x


@pytest.mark.parametrize("name", NORMALIZERS)
def test_is_a_normalizer(name):
    assert isinstance(NORMALIZERS[name](), Normalizer)


@pytest.mark.parametrize("name", NORMALIZERS)
def test_fit_returns_none(name, data):
    assert NORMALIZERS[name]().fit(data) is None


@pytest.mark.parametrize("name", NORMALIZERS)
def test_transform_matches_reference(name, data):
    normalizer = NORMALIZERS[name]()
    normalizer.fit(data)
    result = normalizer.transform(data)
    assert isinstance(result, np.ndarray)
    assert result.shape == data.shape
    np.testing.assert_allclose(result, reference_transform(name, data, data), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NORMALIZERS)
def test_transform_of_new_data_uses_the_fitted_statistics(name, data, rng):
    normalizer = NORMALIZERS[name]()
    normalizer.fit(data)
    other = rng.normal(size=(6, 4)) * 10
    np.testing.assert_allclose(
        normalizer.transform(other), reference_transform(name, data, other), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("name", NORMALIZERS)
def test_undo_matches_reference(name, data, rng):
    normalizer = NORMALIZERS[name]()
    normalizer.fit(data)
    normalized = rng.normal(size=(6, 4))
    np.testing.assert_allclose(
        normalizer.undo(normalized), reference_undo(name, data, normalized), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("name", NORMALIZERS)
def test_undo_inverts_transform(name, data):
    normalizer = NORMALIZERS[name]()
    normalizer.fit(data)
    np.testing.assert_allclose(normalizer.undo(normalizer.transform(data)), data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NORMALIZERS)
def test_refit_replaces_the_statistics(name, data, rng):
    normalizer = NORMALIZERS[name]()
    normalizer.fit(data)
    second = rng.normal(size=(10, 4)) * 500 + 3
    normalizer.fit(second)
    np.testing.assert_allclose(
        normalizer.transform(data), reference_transform(name, second, data), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("name", NORMALIZERS)
def test_transform_does_not_modify_its_input(name, data):
    normalizer = NORMALIZERS[name]()
    original = data.copy()
    normalizer.fit(data)
    normalizer.transform(data)
    normalizer.undo(data)
    np.testing.assert_array_equal(data, original)


@pytest.mark.parametrize("name", NORMALIZERS)
@pytest.mark.parametrize("method", ["transform", "undo"])
def test_use_before_fit_is_an_error(name, method):
    normalizer = NORMALIZERS[name]()
    with pytest.raises(ValueError, match="fit"):
        getattr(normalizer, method)(np.ones((2, 3)))


@pytest.mark.parametrize("name", NORMALIZERS)
def test_fit_rejects_nan_and_infinity(name):
    normalizer = NORMALIZERS[name]()
    with pytest.raises(ValueError):
        normalizer.fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError):
        normalizer.fit(np.array([[1.0, np.inf], [2.0, 3.0]]))


@pytest.mark.parametrize("name", NORMALIZERS)
def test_fit_rejects_an_empty_array(name):
    with pytest.raises(ValueError):
        NORMALIZERS[name]().fit(np.empty((0, 3)))


@pytest.mark.parametrize("name", ["MinMax", "ZScore"])
def test_transform_rejects_a_different_number_of_columns(name, data):
    normalizer = NORMALIZERS[name]()
    normalizer.fit(data)
    with pytest.raises(ValueError):
        normalizer.transform(np.ones((2, 3)))


# ----- DecimalScaling ------------------------------------------------------


@pytest.mark.parametrize(
    "largest, exponent",
    [(0.05, -1), (0.5, 0), (1.0, 0), (7.0, 1), (99.0, 2), (100.0, 2), (255.0, 3), (1000.0, 3), (1234.5, 4)],
)
def test_decimal_scaling_exponent_is_ceiling_of_log10_of_largest_magnitude(largest, exponent):
    x = np.array([[0.0, -largest / 2], [largest / 3, -largest]])
    normalizer = DecimalScaling()
    normalizer.fit(x)
    np.testing.assert_allclose(normalizer.transform(x), x / 10.0**exponent, rtol=1e-15)
    np.testing.assert_allclose(normalizer.undo(x), x * 10.0**exponent, rtol=1e-15)


def test_decimal_scaling_uses_the_whole_array_not_per_column():
    x = np.array([[1.0, 500.0], [2.0, -3.0]])
    normalizer = DecimalScaling()
    normalizer.fit(x)
    np.testing.assert_allclose(normalizer.transform(x), x / 1000.0, rtol=1e-15)


def test_decimal_scaling_of_all_zeros_is_identity():
    normalizer = DecimalScaling()
    normalizer.fit(np.zeros((3, 2)))
    x = np.array([[1.5, -2.0]])
    np.testing.assert_array_equal(normalizer.transform(x), x)


# ----- MinMax ----------------------------------------------------------------


def test_min_max_known_values():
    x = np.array([[0.0, 10.0, 4.0], [2.0, 30.0, 4.0], [4.0, 20.0, 4.0]])
    normalizer = MinMax()
    normalizer.fit(x)
    # The constant third column has zero range, which counts as 1.
    expected = np.array([[0.0, 0.0, 0.0], [0.5, 1.0, 0.0], [1.0, 0.5, 0.0]])
    np.testing.assert_allclose(normalizer.transform(x), expected, rtol=1e-15)
    np.testing.assert_allclose(normalizer.undo(expected), x, rtol=1e-15)


def test_min_max_maps_training_data_into_unit_interval(data):
    normalizer = MinMax()
    normalizer.fit(data)
    result = normalizer.transform(data)[:, :3]
    np.testing.assert_allclose(result.min(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(result.max(axis=0), 1.0, rtol=1e-14)


# ----- ZScore ----------------------------------------------------------------


def test_z_score_uses_population_standard_deviation():
    x = np.array([[1.0], [3.0]])  # mean 2, population std 1 (sample std would be 1.414)
    normalizer = ZScore()
    normalizer.fit(x)
    np.testing.assert_allclose(normalizer.transform(x), [[-1.0], [1.0]], rtol=1e-15)


def test_z_score_constant_column_counts_std_as_one():
    x = np.array([[5.0, 1.0], [5.0, 2.0], [5.0, 3.0]])
    normalizer = ZScore()
    normalizer.fit(x)
    np.testing.assert_allclose(normalizer.transform(np.array([[6.5, 2.0]])), [[1.5, 0.0]], atol=1e-15)


def test_z_score_standardises_training_columns(data):
    normalizer = ZScore()
    normalizer.fit(data)
    result = normalizer.transform(data)[:, :3]
    np.testing.assert_allclose(result.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(result.std(axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32, bool])
def test_fit_accepts_real_numeric_dtypes(dtype):
    x = np.array([[0, 1], [1, 1], [1, 0]]).astype(dtype)
    normalizer = ZScore()
    normalizer.fit(x)
    expected = ref.z_score_transform(x.astype(np.float64), *ref.z_score_fit(x.astype(np.float64)))
    np.testing.assert_allclose(normalizer.transform(x), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "make, keys",
    [(DecimalScaling, {"exponent"}), (MinMax, {"minimum", "maximum"}), (ZScore, {"mean", "std"})],
    ids=["DecimalScaling", "MinMax", "ZScore"],
)
def test_state_is_the_statistics_in_their_own_terms(make, keys, rng):
    """get_state names each normalizer's own statistics (what save writes);
    set_state on a fresh normalizer restores the same transform bit for bit."""
    x = rng.normal(size=(40, 3)) * [1.0, 250.0, 0.01]
    fitted = make()
    assert fitted.get_state() == {}
    fitted.fit(x)
    state = fitted.get_state()
    assert set(state) == keys
    if make is MinMax:
        np.testing.assert_array_equal(state["minimum"], x.min(axis=0))
        np.testing.assert_array_equal(state["maximum"], x.max(axis=0))
    if make is DecimalScaling:
        assert state["exponent"] == ref.decimal_scaling_exponent(x)
    restored = make()
    restored.set_state(state)
    probe = rng.normal(size=(5, 3)) * 100
    np.testing.assert_array_equal(restored.transform(probe), fitted.transform(probe))


@pytest.mark.parametrize(
    "make, state",
    [
        (MinMax, {"minimum": np.array([2.0]), "maximum": np.array([1.0])}),
        (MinMax, {"mean": np.array([0.0]), "std": np.array([1.0])}),
        (ZScore, {"mean": np.array([0.0]), "std": np.array([-1.0])}),
        (ZScore, {"mean": np.array([np.nan]), "std": np.array([1.0])}),
        (DecimalScaling, {"exponent": 1000}),
    ],
    ids=["min-above-max", "foreign-keys", "negative-std", "nan-mean", "huge-exponent"],
)
def test_impossible_states_are_rejected_and_change_nothing(make, state):
    normalizer = make()
    with pytest.raises((ValueError, TypeError)):
        normalizer.set_state(state)
    assert normalizer.get_state() == {}


# ----- sample_weight: the fit of the data with each row repeated w times -----


@pytest.mark.parametrize("name", NORMALIZERS)
def test_a_weighted_fit_is_the_fit_of_repeated_rows(name, data, rng):
    weights = rng.integers(0, 4, size=len(data)).astype(float)
    weights[0] = 1.0  # at least one row present
    weighted = NORMALIZERS[name]()
    weighted.fit(data, sample_weight=weights)
    repeated = np.repeat(data, weights.astype(int), axis=0)
    x = rng.normal(size=(5, data.shape[1]))
    np.testing.assert_allclose(weighted.transform(x), reference_transform(name, repeated, x), rtol=1e-12, atol=1e-12)


def test_weighted_zscore_statistics_are_numpys_weighted_average(data, rng):
    weights = rng.uniform(0.0, 3.0, size=len(data))
    normalizer = ZScore()
    normalizer.fit(data, sample_weight=weights)
    mean = np.average(data, axis=0, weights=weights)
    std = np.sqrt(np.average((data - mean) ** 2, axis=0, weights=weights))
    state = normalizer.get_state()
    np.testing.assert_allclose(state["mean"], mean, rtol=1e-13)
    np.testing.assert_allclose(state["std"][:3], std[:3], rtol=1e-12)
    # The constant column: its value, and a std of exactly 0.
    assert state["mean"][3] == data[0, 3] and state["std"][3] == 0.0


@pytest.mark.parametrize("name", NORMALIZERS)
def test_equal_weights_fit_bit_for_bit_as_none(name, data):
    plain, weighted = NORMALIZERS[name](), NORMALIZERS[name]()
    plain.fit(data)
    weighted.fit(data, sample_weight=np.full(len(data), 0.3))
    for key, value in plain.get_state().items():
        assert np.asarray(weighted.get_state()[key]).tobytes() == np.asarray(value).tobytes()


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        (np.ones(19), ValueError, "one weight per example"),
        (np.ones((20, 1)), ValueError, "shape"),
        (np.r_[-1.0, np.ones(19)], ValueError, "example 0"),
        (np.r_[np.inf, np.ones(19)], ValueError, "finite"),
        (np.zeros(20), ValueError, "total weight"),
        (["a"] * 20, TypeError, "sample_weight"),
    ],
)
def test_bad_weights_are_refused_and_keep_the_previous_fit(data, weights, error, message):
    normalizer = ZScore()
    normalizer.fit(data[:5])
    before = normalizer.get_state()
    with pytest.raises(error, match=message):
        normalizer.fit(data, sample_weight=weights)
    for key, value in before.items():
        np.testing.assert_array_equal(normalizer.get_state()[key], value)
