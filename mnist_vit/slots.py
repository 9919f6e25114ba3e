"""Sequences as slots: the model inputs, one encoder over every slot, and masked slot operations.

A sequence input is `"sequence"`, float32 `(batch, slots, 28, 28, 1)`, with
`"mask"`, bool `(batch, slots)`, true on real slots (a prefix of each row);
tasks with an anchor add `"anchor"`, float32 `(batch, 28, 28, 1)`.
The encoder is an image model; `encode_slots` lets one encoder (shared
weights) embed every slot in a single call. Every task's models build on
these pieces.
"""

import keras
from keras import ops

from mnist_vit.encoder import IMAGE_INPUT_SHAPE
from mnist_vit.tasks import ANCHOR_INPUT


def sequence_inputs(has_anchor=False, slots=None):
    """The `"sequence"` and `"mask"` inputs, and `"anchor"` if `has_anchor`; `slots=None`: any count."""
    inputs = {
        "sequence": keras.Input((slots, *IMAGE_INPUT_SHAPE), name="sequence"),
        "mask": keras.Input((slots,), dtype="bool", name="mask"),
    }
    if has_anchor:
        inputs = {ANCHOR_INPUT: keras.Input(IMAGE_INPUT_SHAPE, name=ANCHOR_INPUT), **inputs}
    return inputs


def encode_slots(encoder, sequence):
    """Applies one image encoder to every slot: `(batch, slots, 28, 28, 1)` -> `(batch, slots, dim)`."""
    return UnfoldSlots(name="unfold_slots")(encoder(FoldSlots(name="fold_slots")(sequence)), sequence)


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
class ClearPaddedSlots(keras.layers.Layer):
    """Sets padded slots to zero: `(batch, slots, dim)`, mask `(batch, slots)` -> `(batch, slots, dim)`."""

    def call(self, inputs, padding_mask):
        return inputs * ops.cast(padding_mask, inputs.dtype)[:, :, None]

    def compute_output_shape(self, inputs_shape, padding_mask_shape):
        return inputs_shape


class SlotLimit(keras.layers.Layer):
    """A layer that takes at most `num_slots` slots; more raise a `ValueError` naming `MODEL`."""

    MODEL = "The model"

    def __init__(self, num_slots, **kwargs):
        super().__init__(**kwargs)
        if num_slots < 1:
            raise ValueError(f"num_slots must be positive, got {num_slots}")
        self.num_slots = num_slots

    def _check(self, shape):
        if shape[1] is not None and shape[1] > self.num_slots:
            raise ValueError(f"{self.MODEL} takes at most {self.num_slots} slots, got {shape[1]}")

    def get_config(self):
        return {**super().get_config(), "num_slots": self.num_slots}


@keras.saving.register_keras_serializable(package="mnist_vit")
class FlattenSlots(SlotLimit):
    """Concatenates slot embeddings into one vector of `num_slots` slots, zero-padded.

    `(batch, slots, dim)` -> `(batch, num_slots * dim)` for any `slots` up to
    `num_slots`; the missing slots are zeros, exactly as padded slots cleared
    by `ClearPaddedSlots` are. So a fully-connected model gets batches padded
    only to their longest sequence, and its encoder does no work on padding.
    More than `num_slots` slots raise a `ValueError` that says so.

    Args:
        num_slots: int. The most slots accepted (the task's `max_len`).
    """

    MODEL = "The fully-connected model"

    def call(self, inputs):
        self._check(inputs.shape)
        missing = self.num_slots - ops.shape(inputs)[1]
        padded = ops.pad(inputs, [[0, 0], [0, missing], [0, 0]])
        return ops.reshape(padded, (-1, self.num_slots * inputs.shape[2]))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], self.num_slots * input_shape[2])


@keras.saving.register_keras_serializable(package="mnist_vit")
class SlotPositions(SlotLimit):
    """Adds a learned embedding of each slot's position: `(batch, slots, dim)` -> `(batch, slots, dim)`.

    Gives order to models that would otherwise see a set. Positions are
    learned for `num_slots` slots only, so a model with them takes at most
    `num_slots` (`max_slots`); more raise a `ValueError` that says so.
    Padded slots get an embedding too: mask them downstream, as ever.

    Args:
        num_slots: int. The most slots accepted (the task's `max_len`).
    """

    MODEL = "A model with learned positions"

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.num_slots, input_shape[-1]), initializer="random_normal", name="embeddings"
        )

    def call(self, inputs):
        self._check(inputs.shape)
        # More slots than positions cannot pass unseen: the slice stops at `num_slots` and the shapes differ.
        positions = ops.convert_to_tensor(self.embeddings)[: ops.shape(inputs)[1]]
        return inputs + ops.cast(positions, inputs.dtype)[None]

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return input_shape


def required_slots(model):
    """The slot count `model` needs, or None if it takes sequences of their own length.

    A fixed slot axis of the `"sequence"` input (every sequence must be
    padded to it).
    """
    for tensor in model.inputs:
        if tensor.name.split(":")[0] == "sequence" and len(tensor.shape) > 1 and tensor.shape[1] is not None:
            return tensor.shape[1]
    return None


def max_slots(model):
    """The most slots `model` takes (`required_slots`, else a `FlattenSlots` or `SlotPositions` limit)."""
    fixed = required_slots(model)
    if fixed is not None:
        return fixed
    for layer in model.layers:
        if isinstance(layer, SlotLimit):
            return layer.num_slots
    return None


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
