"""Heads that tasks put on the sequence backbone's slot features (`mnist_vit.backbone`).

Every head takes the slot features `(batch, slots, dim)` and the mask
`(batch, slots)` (true on real slots) and never lets a padded slot change
its output.
"""

import keras
from keras import layers

from mnist_vit.slots import ClearPaddedSlots, FlattenSlots, MaskedSum


def flattened_slots(slots, mask, max_len):
    """The fully-connected baselines' input: padded slots zeroed, then `max_len` slots flattened in order.

    `(batch, slots, dim)` -> `(batch, max_len * dim)`; more than `max_len` slots are an error.
    """
    x = ClearPaddedSlots(name="clear_padding")(slots, mask)
    return FlattenSlots(max_len, name="flatten_slots")(x)


def fully_connected_stack(x, head):
    """The fully-connected baselines' hidden layers: `(batch, features)` -> `(batch, head.head_units)`.

    Dense(2 * head_units, relu), dropout `head.dropout`, Dense(head_units, relu).
    """
    x = layers.Dense(2 * head.head_units, activation="relu", name="fc_hidden_0")(x)
    x = layers.Dropout(head.dropout, name="fc_dropout")(x)
    return layers.Dense(head.head_units, activation="relu", name="fc_hidden_1")(x)


def pooled_count(slots, mask, head, start=0.0):
    """A Deep Sets count: phi on each real slot, summed, then rho: `(batch, slots, dim)` -> `(batch, 1)`.

    phi is Dense(head_units, relu) then Dense(head_units); rho is
    Dense(head_units, relu), dropout, then one output unit whose bias starts at
    `start`. With phi reading a slot's digit as ten features, the sum is the
    digit histogram, from which rho can compute any function of the set.
    """
    x = layers.Dense(head.head_units, activation="relu", name="phi_hidden")(slots)
    x = layers.Dense(head.head_units, name="phi_output")(x)
    x = MaskedSum(name="pooled")(x, mask)
    x = layers.Dense(head.head_units, activation="relu", name="rho_hidden")(x)
    x = layers.Dropout(head.dropout, name="rho_dropout")(x)
    return layers.Dense(1, bias_initializer=keras.initializers.Constant(start), name="count")(x)


def fully_connected_count(slots, mask, head, max_len, start=0.0):
    """The fully-connected baseline's count: flattened slots, the dense stack, one unit (bias `start`)."""
    x = fully_connected_stack(flattened_slots(slots, mask, max_len), head)
    return layers.Dense(1, bias_initializer=keras.initializers.Constant(start), name="fc_output")(x)
