import keras
import numpy as np
import pytest
from model_helpers import random_inputs, tiny_model

from mnist_vit.digit_head import sum_distribution
from mnist_vit.hyperparameters import TrainingConfig
from mnist_vit.tasks import get_task
from mnist_vit.training import compile_for_task

LENGTHS = [1, 4, 10]


def softmax(logits):
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def convolved(logits, mask):
    """The sum's distribution by repeated `np.convolve` of the real slots' digit distributions."""
    distribution = np.ones(1)
    for probabilities in softmax(logits)[mask]:
        distribution = np.convolve(distribution, probabilities)
    return distribution


def huber(total, sums):
    error = np.abs(keras.ops.convert_to_numpy(total) - sums)
    return np.mean(np.where(error <= 1, 0.5 * error**2, error - 0.5))


def test_sum_distribution_is_the_convolution_of_the_real_slots():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (3, 10, 10)).astype("float32")
    mask = np.arange(10)[None, :] < np.array(LENGTHS)[:, None]
    result = keras.ops.convert_to_numpy(sum_distribution(logits, mask))
    assert result.shape == (3, 9 * 16 + 1)
    for row, slot_logits, slot_mask in zip(result, logits, mask, strict=True):
        expected = convolved(slot_logits, slot_mask)
        np.testing.assert_allclose(row[: len(expected)], expected, atol=1e-6)
        np.testing.assert_allclose(row[len(expected) :], 0.0, atol=1e-7)


def test_sum_distribution_of_sure_digits_is_a_sure_sum():
    logits = np.full((1, 3, 10), -50.0, dtype="float32")
    logits[0, [0, 1, 2], [9, 4, 7]] = 50.0
    result = keras.ops.convert_to_numpy(sum_distribution(logits, np.array([[True, True, False]])))
    assert result.argmax() == 13
    np.testing.assert_allclose(result[0, 13], 1.0, atol=1e-6)


def test_sum_distribution_rejects_more_slots_than_it_handles():
    with pytest.raises(ValueError, match="power of two >= the sequence length 20"):
        sum_distribution(np.zeros((1, 20, 10), "float32"), np.ones((1, 20), bool))


@pytest.mark.parametrize("name", ["transformer", "deepsets"])
def test_training_loss_adds_the_sum_likelihood(name):
    model = tiny_model("sum", name)
    compile_for_task(get_task("sum"), model, TrainingConfig(learning_rate=1e-3, weight_decay=0.0), 10)
    inputs = random_inputs(LENGTHS)
    sums = np.array([[3.0], [17.0], [40.0]], dtype="float32")
    predictions = model(inputs, training=True)
    prediction, expected, digit_logits = (keras.ops.convert_to_numpy(tensor) for tensor in predictions)
    assert prediction.shape == expected.shape == (3, 1)
    assert digit_logits.shape == (3, 10, 10)
    likelihood = [
        convolved(slot_logits, slot_mask)[int(total_digits)]
        for slot_logits, slot_mask, total_digits in zip(digit_logits, inputs["mask"], sums[:, 0], strict=True)
    ]
    loss = model.compute_loss(inputs, sums, predictions, training=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loss), huber(expected, sums) - np.mean(np.log(likelihood)), rtol=1e-4
    )
    # Outside training the model gives the predicted sum alone, and the loss is the compiled one.
    prediction = model(inputs, training=False)
    assert tuple(prediction.shape) == (3, 1)
    loss = model.compute_loss(inputs, sums, prediction, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), huber(prediction, sums), rtol=1e-4)
