"""The digit probe: a linear read-out of a frozen encoder, its p**L limit, where the main job reports it."""

import keras
import numpy as np
import pytest
from conftest import digit_split
from model_helpers import tiny_model

from mnist_vit import training
from mnist_vit.digit_probe import digit_probe_accuracy, reader_limit
from mnist_vit.figures import reader_limits
from mnist_vit.tasks import get_task


def pixel_encoder(dim_scale=1.0):
    """An encoder whose embedding is the image itself, flattened and scaled: `(batch, 784)`."""
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Rescaling(dim_scale)(keras.layers.Flatten()(inputs)))


def test_a_probe_reads_digits_an_encoder_keeps_and_not_those_it_drops():
    train, test = digit_split(600, seed=0), digit_split(300, seed=1)  # digit d: a bright bar in rows 2d+4..
    assert digit_probe_accuracy(pixel_encoder(), train, test, 600, epochs=10) > 0.97
    blind = digit_probe_accuracy(pixel_encoder(0.0), train, test, 600, epochs=10)  # every embedding is zero
    assert blind <= np.bincount(test.labels, minlength=10).max() / len(test) + 1e-9


def test_the_probe_leaves_the_encoder_unchanged():
    encoder = tiny_model("sum", "deepsets").get_layer("encoder")
    before = [weight.copy() for weight in encoder.get_weights()]
    digit_probe_accuracy(encoder, digit_split(64), digit_split(32, seed=1), 64, epochs=1)
    assert all(np.array_equal(a, b) for a, b in zip(before, encoder.get_weights(), strict=True))


def test_the_reader_limit_is_p_to_the_length():
    limit = reader_limit(0.9, [1, 2, 10])
    assert limit == pytest.approx({"1": 0.9, "2": 0.81, "10": 0.9**10})


def test_the_by_length_figure_gets_a_limit_for_each_drawn_model_with_a_probe():
    models = {
        "transformer": {"test": {"digit_probe_accuracy": 0.99}},
        "deepsets": {"test": {}},
        "fc": {"test": {"digit_probe_accuracy": 0.9}},  # not drawn by length: no limit
    }
    curves = {"transformer": {"1": 1.0, "3": 0.9}, "deepsets": {"1": 1.0, "3": 0.8}}
    limits = reader_limits(models, curves)
    assert list(limits) == ["transformer"]
    p, limit = limits["transformer"]
    assert p == 0.99 and limit == pytest.approx({"1": 0.99, "3": 0.99**3})


@pytest.mark.parametrize(
    ("model_name", "long_lengths"),
    [pytest.param("deepsets", True, marks=pytest.mark.slow), ("fc", False)],  # slow: 100 lengths to trace
)
def test_the_sums_test_metrics_hold_the_probe_and_lengths_to_100(model_name, long_lengths):
    splits = {"train": digit_split(128), "test": digit_split(256, seed=1)}
    metrics = training.test_metrics(get_task("sum"), model_name, tiny_model("sum", model_name), splits, 200)
    assert 0.0 <= metrics["digit_probe_accuracy"] <= 1.0
    by_long_length = metrics.get("exact_accuracy_by_long_length")
    assert (by_long_length is not None) == long_lengths
    if long_lengths:
        assert list(by_long_length) == [str(n) for n in range(1, 101)]


def test_tasks_without_a_probe_report_none():
    splits = {"train": digit_split(64), "test": digit_split(256, seed=1)}
    assert not get_task("anchor").digit_probe
    metrics = training.test_metrics(get_task("anchor"), "fc", tiny_model("anchor", "fc"), splits, 50)
    assert "digit_probe_accuracy" not in metrics and "accuracy" in metrics
