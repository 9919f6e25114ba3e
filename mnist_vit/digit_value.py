"""Reading digits from slots: a distribution over 0..9 per slot, its expected value, the most likely sum."""

import keras
from keras import ops

from mnist_vit.data import NUM_CLASSES
from mnist_vit.pooling import masked_sum


@keras.saving.register_keras_serializable(package="mnist_vit")
class DigitValue(keras.layers.Layer):
    """Expected digit value of each slot: `(batch, slots, 10)` logits -> `(batch, slots, 1)`.

    `softmax(logits) . [0, 1, ..., 9]`. Trained only through the sum, the
    slot values snap to integers as the model grows confident, so a sum of
    many slots stays close to an integer and rounds to it. An untrained model
    (uniform softmax) gives 4.5, the mean digit, per slot.
    """

    def call(self, logits):
        values = ops.arange(NUM_CLASSES, dtype=logits.dtype)
        return ops.sum(ops.softmax(logits, axis=-1) * values, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


@keras.saving.register_keras_serializable(package="mnist_vit")
class MostLikelySum(keras.layers.Layer):
    """The predicted sum: the real slots' most likely digits, summed, moved toward the expected sum.

    Inputs: digit `logits` `(batch, slots, 10)`, the `expected_sum`
    `(batch, 1)` and `padding_mask` bool `(batch, slots)`, true on real
    slots. Output `(batch, 1)`: `s` = the sum of each real slot's argmax
    digit, moved toward `expected_sum` by at most 0.49, so it rounds to `s`.

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
