"""Pooling over the real slots of a sequence."""

import keras
from keras import ops


def masked_sum(inputs, padding_mask):
    """Sum over the real slots: `(batch, slots, dim)` with mask `(batch, slots)` -> `(batch, dim)`."""
    return ops.sum(ops.where(padding_mask[:, :, None], inputs, 0.0), axis=1)


@keras.saving.register_keras_serializable(package="mnist_vit")
class MaskedSum(keras.layers.Layer):
    """Sums the real slots: `(batch, slots, dim)` with mask `(batch, slots)` -> `(batch, dim)`.

    Padded slots contribute nothing whatever they hold, and the result grows
    with the number of real slots, which is what a sum over a set needs.
    """

    def call(self, inputs, padding_mask):
        return masked_sum(inputs, padding_mask)

    def compute_output_shape(self, inputs_shape, padding_mask_shape):
        return (inputs_shape[0], *inputs_shape[2:])
