"""The distinct and ascents tasks: their targets by hand, and what positions do to their models."""

import keras
import numpy as np
import pytest
from fresh_process import predict_in_fresh_process
from model_helpers import random_inputs, tiny_model, with_extra_slots, with_noisy_padding

from mnist_vit.ascents_task import ascents
from mnist_vit.digit_head import DigitPresence
from mnist_vit.distinct_task import distinct_digits
from mnist_vit.slots import max_slots
from mnist_vit.tasks import get_task

LENGTHS = [1, 4, 10]


def rows(*sequences, slots=10):
    """`(digits, mask)` of digit lists, padded with -1 to `slots`."""
    digits = np.full((len(sequences), slots), -1)
    for row, sequence in enumerate(sequences):
        digits[row, : len(sequence)] = sequence
    return digits, digits >= 0


def test_distinct_counts_different_digits_of_the_real_slots_only():
    digits, mask = rows(
        [7], [3, 3, 3, 3], [1, 2, 1, 2, 9], list(range(10)), [0, 0, 5], [4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    )
    expected = [1, 1, 3, 10, 2, 1]
    np.testing.assert_array_equal(distinct_digits(digits, mask), expected)
    # Padding never counts, whatever digit a padded slot would hold.
    padded = np.where(mask, digits, 0)
    np.testing.assert_array_equal(distinct_digits(padded, mask), expected)


def test_sure_digit_readings_count_the_distinct_digits_of_the_real_slots():
    digits, mask = rows([7], [3, 3, 3, 3], [1, 2, 1, 2, 9], list(range(10)), [0, 0, 5])
    logits = 30.0 * np.eye(10, dtype="float32")[np.maximum(digits, 0)]  # sure readings, p(digit) ~ 1
    logits[~mask] = 30.0 * np.eye(10, dtype="float32")[8]  # padding "shows" an 8: never counted
    count = keras.ops.convert_to_numpy(DigitPresence()(logits, mask))
    assert count.shape == (5, 1)
    np.testing.assert_allclose(count[:, 0], distinct_digits(digits, mask), atol=1e-4)
    # Which class stands for which digit does not matter: any relabelling counts the same.
    relabelled = logits[..., np.random.default_rng(0).permutation(10)]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(DigitPresence()(relabelled, mask)), count, atol=1e-5
    )


def test_unsure_readings_give_the_mean_count_of_random_digits():
    lengths = np.arange(1, 11)
    mask = np.arange(10)[None, :] < lengths[:, None]
    count = keras.ops.convert_to_numpy(DigitPresence()(np.zeros((10, 10, 10), "float32"), mask))
    np.testing.assert_allclose(count[:, 0], 10 * (1 - 0.9**lengths), rtol=1e-5)


def test_ascents_count_adjacent_rises_only():
    digits, mask = rows(
        [5],  # length 1: no pair
        [2, 2, 2, 2],  # all equal: a tie is no ascent
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],  # strictly increasing: every pair
        [9, 8, 7, 6, 5],  # strictly decreasing: none
        [1, 3, 2, 4, 4, 0, 7],  # rises at 1->3, 2->4, 0->7
        [3, 1, 4],  # not 3 -> 4: only adjacent pairs count
    )
    expected = [0, 0, 9, 0, 3, 1]
    np.testing.assert_array_equal(ascents(digits, mask), expected)
    # A padded slot after the last real one never counts, even holding a larger digit.
    padded = np.where(mask, digits, 9)
    np.testing.assert_array_equal(ascents(padded, mask), expected)


def counting_model(task, name):
    """A tiny untrained model whose zero-initialised output layers are given random weights.

    The count heads start every slot's value at zero, so an untrained model
    answers the same whatever its input: no test could see what it does with
    order or padding. Seeded: an unlucky draw can leave every ReLU of a tiny
    Deep Sets head dead for some input, whose output then ignores it.
    """
    keras.utils.set_random_seed(0)
    model = tiny_model(task, name)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and not np.any(keras.ops.convert_to_numpy(kernel)):
            kernel.assign(rng.normal(0, 0.5, kernel.shape).astype(kernel.dtype))
    return model


def permuted(inputs, seed=0):
    """The same inputs with each row's real slots in another order."""
    rng = np.random.default_rng(seed)
    sequence = inputs["sequence"].copy()
    for row, length in enumerate(inputs["mask"].sum(axis=1)):
        sequence[row, :length] = sequence[row, rng.permutation(length)]
    return {**inputs, "sequence": sequence}


@pytest.mark.parametrize("task", ["distinct", "ascents"])
@pytest.mark.parametrize("name", ["transformer", "deepsets", "fc"])
def test_one_number_per_sequence_that_padding_never_changes(task, name):
    model = counting_model(task, name)
    inputs = random_inputs(LENGTHS)
    clean = model.predict(inputs, verbose=0)
    assert clean.shape == (3, 1) and np.isfinite(clean).all()
    np.testing.assert_allclose(model.predict(with_noisy_padding(inputs), verbose=0), clean, atol=1e-4)


@pytest.mark.parametrize("name", ["transformer", "deepsets"])
def test_without_positions_the_order_of_the_images_never_matters(name):
    model = counting_model("distinct", name)
    inputs = random_inputs(LENGTHS)
    clean = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(model.predict(permuted(inputs), verbose=0), clean, atol=1e-4)
    np.testing.assert_allclose(model.predict(with_extra_slots(inputs), verbose=0), clean, atol=1e-4)
    assert get_task("distinct").models[name].any_length and max_slots(model) is None


@pytest.mark.parametrize(
    ("task", "name"), [("distinct", "fc"), ("ascents", "transformer"), ("ascents", "deepsets")]
)
def test_with_positions_or_a_flat_layout_the_order_matters(task, name):
    model = counting_model(task, name)
    inputs = random_inputs([4, 10])
    clean = model.predict(inputs, verbose=0)
    moved = model.predict(permuted(inputs), verbose=0)
    assert np.all(np.abs(moved - clean) > 1e-6)
    assert not get_task(task).models[name].any_length and max_slots(model) == 10


def test_a_model_with_positions_refuses_more_slots_than_it_learned():
    model = counting_model("ascents", "transformer")
    with pytest.raises(Exception, match="at most 10 slots, got 12|[Ii]ncompatible shapes"):
        model.predict(random_inputs([3, 12], slots=12), verbose=0)


@pytest.mark.slow
@pytest.mark.parametrize(("task", "name"), [("ascents", "transformer"), ("distinct", "deepsets")])
def test_keras_file_round_trip_in_fresh_process(tmp_path, task, name):
    model = counting_model(task, name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    inputs = random_inputs(LENGTHS)
    expected = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(predict_in_fresh_process(path, inputs, tmp_path), expected, atol=1e-6)
