"""A head that reads a digit value from each slot as a distribution over 0..9."""

import keras
from keras import ops

from mnist_vit.data import NUM_CLASSES


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
