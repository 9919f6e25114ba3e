"""Layers that move between sequences of images and batches of images.

The encoder is an image model; these layers let one encoder (with shared
weights) embed every slot of a sequence in a single call.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mnist_vit")
class FoldSlots(keras.layers.Layer):
    """Merges the batch and slot axes: `(batch, slots, *item)` -> `(batch * slots, *item)`."""

    def call(self, sequence):
        return ops.reshape(sequence, (-1, *sequence.shape[2:]))

    def compute_output_shape(self, input_shape):
        batch, slots = input_shape[:2]
        folded = None if batch is None or slots is None else batch * slots
        return (folded, *input_shape[2:])


@keras.saving.register_keras_serializable(package="mnist_vit")
class UnfoldSlots(keras.layers.Layer):
    """Splits the batch axis back into batch and slots.

    Call arguments:
        items: `(batch * slots, *features)`, e.g. the encoder's embeddings.
        reference: `(batch, slots, ...)`, the tensor that was folded; only
            its first two dimensions are read.

    Returns:
        `(batch, slots, *features)`.
    """

    def call(self, items, reference):
        shape = ops.shape(reference)
        return ops.reshape(items, (shape[0], shape[1], *items.shape[1:]))

    def compute_output_shape(self, items_shape, reference_shape):
        return (*reference_shape[:2], *items_shape[1:])


@keras.saving.register_keras_serializable(package="mnist_vit")
class ZeroPadding(keras.layers.Layer):
    """Zeroes padded slots: `(batch, slots, dim)` times mask `(batch, slots)`."""

    def call(self, inputs, padding_mask):
        return inputs * ops.cast(padding_mask, inputs.dtype)[:, :, None]

    def compute_output_shape(self, inputs_shape, padding_mask_shape):
        return inputs_shape


@keras.saving.register_keras_serializable(package="mnist_vit")
class FlattenSlots(keras.layers.Layer):
    """Concatenates a fixed number of slot embeddings.

    `(batch, num_slots, dim)` -> `(batch, num_slots * dim)`. The
    fully-connected baselines need exactly `num_slots` slots; any other count
    raises a `ValueError` that says so.

    Args:
        num_slots: int. The only slot count accepted (the task's `max_len`).
    """

    def __init__(self, num_slots, **kwargs):
        super().__init__(**kwargs)
        if num_slots < 1:
            raise ValueError(f"num_slots must be positive, got {num_slots}")
        self.num_slots = num_slots

    def _check(self, shape):
        if shape[1] is not None and shape[1] != self.num_slots:
            raise ValueError(
                f"The fully-connected model takes exactly {self.num_slots} slots "
                f"(pad every sequence to max_len={self.num_slots}), got {shape[1]}"
            )

    def call(self, inputs):
        self._check(inputs.shape)
        return ops.reshape(inputs, (-1, self.num_slots * inputs.shape[2]))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], self.num_slots * input_shape[2])

    def get_config(self):
        return {**super().get_config(), "num_slots": self.num_slots}


def required_slots(model):
    """The slot count `model` needs (its `FlattenSlots`' `num_slots`), or None if any count works."""
    for layer in model.layers:
        if isinstance(layer, FlattenSlots):
            return layer.num_slots
    return None
