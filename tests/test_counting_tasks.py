"""The distinct and ascents tasks: their targets by hand, and what positions do to their models."""

import keras
import numpy as np
import pytest
from fresh_process import predict_in_fresh_process
from model_helpers import random_inputs, tiny_model, with_extra_slots, with_noisy_padding

from mnist_vit.ascents_task import ascents
from mnist_vit.digit_head import DigitPresence
from mnist_vit.distinct_task import distinct_digits
from mnist_vit.look_back import LookBackAscents
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
    logits = sure_readings(digits, mask, padding_digit=8)  # padding "shows" an 8: never counted
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


def sure_readings(digits, mask, padding_digit):
    """Logits `(n, slots, 10)` that read each real slot's digit with p ~ 1, and padding as `padding_digit`."""
    logits = 30.0 * np.eye(10, dtype="float32")[np.maximum(digits, 0)]
    logits[~mask] = 30.0 * np.eye(10, dtype="float32")[padding_digit]
    return logits


def look_back(distance_scores=None, sink_score=None):
    """A `LookBackAscents` over 10 slots, its scores set where given (else the recency prior)."""
    layer = LookBackAscents(10)
    layer.build((None, 10, 10), (None, 10))
    if distance_scores is not None:
        layer.distance_scores.assign(np.asarray(distance_scores, dtype="float32"))
    if sink_score is not None:
        layer.sink_score.assign(sink_score)
    return layer


ASCENT_ROWS = rows([5], [2, 2, 2, 2], list(range(10)), [9, 8, 7, 6, 5], [1, 3, 2, 4, 4, 0, 7], [3, 1, 4])


def test_looking_back_one_slot_with_sure_readings_counts_the_ascents():
    digits, mask = ASCENT_ROWS
    # Distance 1 far above the others and the sink: each slot compares with the one before it.
    layer = look_back(distance_scores=[40.0] + [-40.0] * 8, sink_score=-40.0)
    count = keras.ops.convert_to_numpy(layer(sure_readings(digits, mask, padding_digit=9), mask))
    assert count.shape == (6, 1)
    np.testing.assert_allclose(count[:, 0], ascents(digits, mask), atol=1e-4)
    # Looking two slots back counts the rises between slots two apart instead; the second slot,
    # with no slot two back, looks at the sink.
    two_back = look_back(distance_scores=[-40.0, 40.0] + [-40.0] * 7, sink_score=0.0)
    count = keras.ops.convert_to_numpy(two_back(sure_readings(digits, mask, padding_digit=9), mask))
    rises_two_apart = ((digits[:, 2:] > digits[:, :-2]) & mask[:, 2:]).sum(axis=1)
    np.testing.assert_allclose(count[:, 0], rises_two_apart, atol=1e-4)


def test_looking_at_the_sink_counts_nothing():
    digits, mask = ASCENT_ROWS
    layer = look_back(sink_score=40.0)
    count = keras.ops.convert_to_numpy(layer(sure_readings(digits, mask, padding_digit=9), mask))
    np.testing.assert_allclose(count[:, 0], 0.0, atol=1e-4)


def test_unsure_readings_under_the_recency_prior_count_the_chance_share_of_each_look():
    lengths = np.arange(1, 11)
    mask = np.arange(10)[None, :] < lengths[:, None]
    count = keras.ops.convert_to_numpy(look_back()(np.zeros((10, 10, 10), "float32"), mask))
    # Slot i (0-based) gives weight e^-d to the slot d back and e^-2 to the sink; any earlier slot
    # then shows a smaller digit with chance 0.45, the sink counts 0, and the first slot has only the sink.
    looked = [sum(np.exp(-np.arange(1, i + 1))) for i in range(10)]
    shares = [w / (w + np.exp(-2.0)) for w in looked]
    expected = [0.45 * sum(shares[:n]) for n in lengths]
    np.testing.assert_allclose(count[:, 0], expected, rtol=1e-5)
    assert count[0, 0] == 0.0


def counting_model(task, name):
    """A tiny untrained model, seeded: an unlucky draw can leave every ReLU of a tiny Deep Sets head dead
    for some input, whose output then ignores it."""
    keras.utils.set_random_seed(0)
    return tiny_model(task, name)


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
