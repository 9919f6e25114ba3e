"""Attention back along a sequence: each slot compares its digit with that of a slot it chooses before it.

`LookBackAscents` is the ascents task's attention head. Every real slot
attends over the real slots before it, by a learned score per distance,
plus a "sink" that stands for no earlier slot; the answer is the expected
number of slots whose digit is larger than the digit they attend to. Which
earlier slot to compare with is learned from the count alone.
"""

import keras
import numpy as np
from keras import ops

from mnist_vit.data import NUM_CLASSES
from mnist_vit.slots import masked_sum

# The sink's starting score: distance 2's in the recency prior (distance d starts at -d), below distance 1's.
SINK_START = -2.0


@keras.saving.register_keras_serializable(package="mnist_vit")
class LookBackAscents(keras.layers.Layer):
    """The expected number of ascents, each real slot compared with an earlier slot it attends to.

    Call arguments:
        logits: float `(batch, slots, 10)`, each slot's digit logits (read
            as distributions `p_i` over the digits 0..9).
        padding_mask: bool `(batch, slots)`, true on real slots (a prefix).

    Returns:
        float32 `(batch, 1)`: `sum_i sum_j a_ij P(digit_i > digit_j)` over
        real slots `i` and real slots `j < i`, with
        `P(digit_i > digit_j) = sum_{k < l} p_jk p_il` (slots read
        independently).

    The weights `a_ij` are a softmax over the earlier real slots' scores,
    one learned score per distance `i - j` (1 to `max_len - 1`), and a
    learned sink score whose share compares with nothing and counts 0; the
    first slot has only the sink, so it never counts. The scores start as a
    recency prior (ALiBi's: minus the distance, the sink at -2), so the
    comparison has the count's scale from the first step; the count alone
    then teaches both the readings and which earlier slot to look at.

    Args:
        max_len: int. The most slots of a sequence: distances run 1 to
            `max_len - 1` (the models that use it take at most `max_len`
            slots, `slots.SlotPositions`).
    """

    def __init__(self, max_len, **kwargs):
        super().__init__(**kwargs)
        self.max_len = max_len

    def build(self, logits_shape, padding_mask_shape):
        distances = np.arange(1, self.max_len, dtype="float32")
        self.distance_scores = self.add_weight(
            shape=(self.max_len - 1,),
            initializer=keras.initializers.Constant(-distances),
            name="distance_scores",
        )
        self.sink_score = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(SINK_START), name="sink_score"
        )

    def attention(self, padding_mask):
        """Where each slot looks: float32 `(batch, slots, slots + 1)`, rows summing to 1.

        Entry `[b, i, j]` is slot `i`'s weight on slot `j` (zero unless `j`
        is a real slot before `i`); the last column is the sink's weight.
        """
        padding_mask = ops.cast(padding_mask, "bool")
        position = ops.arange(ops.shape(padding_mask)[1])
        distance = position[:, None] - position[None, :]  # (queries i, keys j): i - j
        scores = ops.take(self.distance_scores, ops.clip(distance - 1, 0, self.max_len - 2))
        earlier = ops.logical_and((distance > 0)[None], padding_mask[:, None, :])
        scores = ops.where(earlier, scores[None], -1e9)
        sink = ops.zeros_like(scores[:, :, :1]) + self.sink_score
        return ops.softmax(ops.concatenate([scores, sink], axis=-1), axis=-1)

    def call(self, logits, padding_mask):
        probabilities = ops.softmax(ops.cast(logits, "float32"), axis=-1)
        weights = self.attention(padding_mask)[:, :, :-1]  # the sink's share compares with nothing
        looked_at = ops.matmul(weights, probabilities)  # (batch, slots, 10): the attended digit distribution
        smaller = ops.cast(ops.arange(NUM_CLASSES)[:, None] < ops.arange(NUM_CLASSES)[None, :], "float32")
        ascent = ops.sum(ops.matmul(looked_at, smaller) * probabilities, axis=-1, keepdims=True)
        return masked_sum(ascent, ops.cast(padding_mask, "bool"))

    def compute_output_shape(self, logits_shape, padding_mask_shape):
        return (logits_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len}
