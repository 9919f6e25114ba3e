"""Reading a digit from every slot, and the sum those readings imply.

The head turns each slot's features into logits over the digits 0..9
(`slot_digits`). From them come three things:

- the expected sum (`DigitValue` per slot, `MaskedSum` over the real slots),
  4.5 per slot for an untrained head, so it has a digit sum's scale from the
  first step;
- the exact distribution of the sum (`sum_distribution`: the convolution of
  the real slots' digit distributions);
- the prediction, the most likely sum (`MostLikelySum`);
- the expected number of different digits (`DigitPresence`), the distinct
  task's answer.

`SumModel` trains on the expected sum (the compiled loss) plus the negative
log-likelihood of the true sum under its distribution, which tells each slot
which digits are consistent with the sum (the loss of DeepProbLog-style MNIST
addition), and predicts the most likely sum.
"""

import functools

import keras
import numpy as np
from keras import layers, ops

from mnist_vit.data import NUM_CLASSES
from mnist_vit.slots import MaskedSum, masked_sum
from mnist_vit.task_model import TaskModel

# Slots that `sum_distribution` handles: a power of two >= the training
# sequences' max_len (10).
DISTRIBUTION_SLOTS = 16
# The negative log-likelihood of the true sum, a mean over the batch. A Loss object rather than
# the function: under a TensorFlow distribution strategy it scales itself by 1 / replicas, as the
# compiled loss does.
SUM_LIKELIHOOD_LOSS = keras.losses.SparseCategoricalCrossentropy(name="sum_likelihood")


def slot_digits(x, head_units, dropout):
    """Per-slot head: layer norm, Dense-ReLU, dropout, digit logits.

    `(batch, slots, dim)` -> `(batch, slots, 10)` logits of each slot's digit.
    """
    x = layers.LayerNormalization(name="final_norm")(x)
    x = layers.Dense(head_units, activation="relu", name="head_hidden")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    return layers.Dense(NUM_CLASSES, name="digit_logits")(x)


def expected_sum(logits, mask):
    """Sum of the real slots' expected digit values (`DigitValue`): `(batch, 1)`."""
    return MaskedSum(name="expected_sum")(DigitValue(name="digit_value")(logits), mask)


def expected_distinct(logits, mask):
    """The expected number of different digits among the real slots (`DigitPresence`): `(batch, 1)`."""
    return DigitPresence(name="expected_distinct")(logits, mask)


def sum_model(inputs, expected, logits, task, name):
    """A `SumModel` whose prediction is the most likely sum near `expected` (`MostLikelySum`).

    Args:
        inputs: dict of the model's inputs, with `"mask"`.
        expected: `(batch, 1)`, the expected sum the compiled loss trains.
        logits: `(batch, slots, 10)`, each slot's digit logits.
        task: str. The task's name (`TaskModel`).
        name: str. The model's name.
    """
    prediction = MostLikelySum(name="prediction")(logits, expected, inputs["mask"])
    return SumModel(inputs, [prediction, expected, logits], task=task, name=name)


@keras.saving.register_keras_serializable(package="mnist_vit")
class DigitValue(keras.layers.Layer):
    """Expected digit value of each slot: `(batch, slots, 10)` logits -> `(batch, slots, 1)`.

    `softmax(logits) . [0, 1, ..., 9]`; an untrained model (uniform softmax)
    gives 4.5, the mean digit, per slot.
    """

    def call(self, logits):
        values = ops.arange(NUM_CLASSES, dtype=logits.dtype)
        return ops.sum(ops.softmax(logits, axis=-1) * values, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


@keras.saving.register_keras_serializable(package="mnist_vit")
class MostLikelySum(keras.layers.Layer):
    """The predicted sum: the real slots' most likely digits, summed, moved toward the expected sum.

    Call arguments:
        logits: float `(batch, slots, 10)`, each slot's digit logits.
        expected_sum: float `(batch, 1)`.
        padding_mask: bool `(batch, slots)`, true on real slots.

    Returns:
        float `(batch, 1)`: `s` = the sum of each real slot's argmax digit,
        moved toward `expected_sum` by at most 0.49, so it rounds to `s`.

    Independent slots make `s` the most likely sum (the mode of the sum's
    distribution), which maximises the chance that the rounded prediction
    is exactly right; the expected sum would pick the sum between two
    readings of an unsure slot (6.5 for "4 or 9"), which is never right. The
    move toward the expected sum keeps the squared error of a wrong
    reading smaller. It has no gradient; models train on `expected_sum`.
    """

    def call(self, logits, expected_sum, padding_mask):
        digits = ops.cast(ops.argmax(logits, axis=-1), expected_sum.dtype)
        digit_sum = masked_sum(ops.expand_dims(digits, -1), padding_mask)
        return ops.clip(expected_sum, digit_sum - 0.49, digit_sum + 0.49)

    def compute_output_shape(self, logits_shape, expected_sum_shape, padding_mask_shape):
        return expected_sum_shape


@keras.saving.register_keras_serializable(package="mnist_vit")
class DigitPresence(keras.layers.Layer):
    """The expected number of different digits among the real slots, from each slot's digit distribution.

    Call arguments:
        logits: float `(batch, slots, 10)`, each slot's digit logits.
        padding_mask: bool `(batch, slots)`, true on real slots.

    Returns:
        float32 `(batch, 1)`: the sum over digits `k` of the chance that some
        real slot shows `k`, `1 - prod_i (1 - p_ik)`, slots read independently.

    One-hot readings give the count itself. An untrained head (about uniform
    readings) gives `10 (1 - 0.9^n)` for `n` slots, the mean count of `n`
    random digits, so the model has the count's scale from the first step
    and learns from the count alone which slots show the same digit (which
    digit is which is never taught: any relabelling of the ten readings
    counts the same). Padded slots count for nothing.
    """

    def call(self, logits, padding_mask):
        logits = ops.cast(logits, "float32")
        # log(1 - p_k) = logsumexp of the logits without k, minus logsumexp of all: stable near p_k = 1.
        others = ops.where(ops.eye(NUM_CLASSES) > 0.5, -1e9, logits[..., None, :])
        log_absent = ops.logsumexp(others, axis=-1) - ops.logsumexp(logits, axis=-1, keepdims=True)
        log_absent_everywhere = masked_sum(log_absent, padding_mask)  # (batch, 10)
        return ops.sum(1.0 - ops.exp(log_absent_everywhere), axis=-1, keepdims=True)

    def compute_output_shape(self, logits_shape, padding_mask_shape):
        return (logits_shape[0], 1)


@functools.cache
def _pair_sum_matrix(size):
    """0/1 matrix `(size * size, 2 * size - 1)`: row `i * size + j` has its 1 at column `i + j`.

    A joint distribution of two values in 0..size-1, flattened, times this
    matrix is the distribution of their sum. Cached, so eager backends do not
    rebuild it at every training step.
    """
    first, second = np.divmod(np.arange(size * size), size)
    matrix = np.zeros((size * size, 2 * size - 1), dtype="float32")
    matrix[np.arange(size * size), first + second] = 1.0
    return matrix


def sum_distribution(digit_logits, mask, slots=DISTRIBUTION_SLOTS):
    """Distribution of the sum of the real slots' digits.

    Padded slots count as a sure 0. The slots are padded to `slots` and
    convolved pairwise in a tree (`log2(slots)` rounds of batched products),
    which needs no loop over a length that may be unknown when tracing.

    Args:
        digit_logits: float `(batch, length, 10)`, each slot's digit logits.
        mask: bool `(batch, length)`, true on real slots.
        slots: int. A power of two >= `length`.

    Returns:
        float `(batch, 9 * slots + 1)`: the probability of each sum 0..9*slots.

    Raises:
        ValueError: `slots` is not a power of two or is shorter than `length`.
    """
    length = digit_logits.shape[1]
    if slots & (slots - 1) or (length is not None and length > slots):
        raise ValueError(f"slots must be a power of two >= the sequence length {length}, got {slots}")
    probabilities = ops.softmax(digit_logits, axis=-1)
    sure_zero = ops.one_hot(ops.zeros((), dtype="int32"), NUM_CLASSES, dtype=probabilities.dtype)
    probabilities = ops.where(ops.expand_dims(mask, -1), probabilities, sure_zero)
    padding = ops.repeat(ops.zeros_like(probabilities[:, :1]) + sure_zero, slots, axis=1)
    distributions = ops.concatenate([probabilities, padding], axis=1)[:, :slots]
    count, size = slots, NUM_CLASSES
    while count > 1:
        pairs = ops.reshape(distributions, (-1, count // 2, 2, size))
        joint = ops.expand_dims(pairs[:, :, 0], -1) * ops.expand_dims(pairs[:, :, 1], -2)
        joint = ops.reshape(joint, (-1, count // 2, size * size))
        distributions = ops.matmul(joint, _pair_sum_matrix(size))
        count, size = count // 2, 2 * size - 1
    return distributions[:, 0]


@keras.saving.register_keras_serializable(package="mnist_vit")
class SumModel(TaskModel):
    """A functional sum model trained on the expected sum and on the sum's distribution.

    Built like a functional model, from the `"sequence"` and `"mask"` inputs
    to three outputs: the predicted sum `(batch, 1)` (`MostLikelySum`), the
    expected sum `(batch, 1)` and the slots' digit logits
    `(batch, slots, 10)`. Calling it returns only the predicted sum (the
    public contract), except in training, where it returns all three:
    `compute_loss` applies the compiled loss to the expected sum (the
    predicted one has no gradient) and adds the negative log-likelihood of
    the true sum under `sum_distribution`; the metrics see the predicted
    sum. Evaluation's loss is the compiled loss of the predicted sum.
    """

    def call(self, inputs, training=None, mask=None):
        outputs = super().call(inputs, training=training, mask=mask)
        return tuple(outputs) if training else outputs[0]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, tuple):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        _, expected_sum, digit_logits = y_pred
        loss = super().compute_loss(x, y, expected_sum, sample_weight, training=training)
        probabilities = sum_distribution(digit_logits, ops.cast(x["mask"], "bool"))
        return loss + SUM_LIKELIHOOD_LOSS(y, probabilities)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        prediction = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return super().compute_metrics(x, y, prediction, sample_weight)
