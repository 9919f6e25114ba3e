"""The exact distribution of a digit sum, and a sum model whose training loss uses it.

A sum model that reads each slot as a distribution over the digits 0..9
(`DigitValue`) also defines a distribution over the sum of a sequence: the
convolution of its slots' distributions. The negative log-likelihood of the
true sum under it tells every slot which digits are consistent with the
sum, where the squared error of the expected sum only says "more" or "less"
(a 7 read as half 6, half 8 has the right expected value). It is the loss of
DeepProbLog-style MNIST addition.
"""

import functools

import keras
import numpy as np
from keras import ops

from mnist_vit.data import NUM_CLASSES

# Slots that `sum_distribution` handles: a power of two >= the training
# sequences' max_len (10).
DISTRIBUTION_SLOTS = 16


@functools.cache
def _pair_sum_matrix(size):
    """0/1 matrix `(size * size, 2 * size - 1)`: row `i * size + j` has its 1 at column `i + j`.

    A joint distribution of two values in 0..size-1, flattened, times this
    matrix is the distribution of their sum. Cached: eager backends (torch)
    would otherwise rebuild the four matrices at every training step.
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
class SumModel(keras.Model):
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
        probabilities = sum_distribution(digit_logits, x["mask"])
        return loss + ops.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        prediction = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return super().compute_metrics(x, y, prediction, sample_weight)
