"""Cross-attention from one query embedding (the anchor) to a sequence."""

import keras
from keras import layers, ops

from mnist_vit.transformer_block import attention_mask_from_padding


@keras.saving.register_keras_serializable(package="mnist_vit")
class AnchorCrossAttention(keras.layers.Layer):
    """Multi-head attention with the anchor as query and the sequence as keys and values.

    Both inputs are layer-normalised first. Padded slots are never attended
    to: their attention weight is exactly 0 and their content cannot change
    the output.

    Args:
        num_heads: int. Attention heads; `key_dim = dim // num_heads`.
        dropout: float. Dropout on the attention weights. Defaults to `0.0`.

    Call arguments:
        anchor: float `(batch, dim)`.
        sequence: float `(batch, slots, dim)`.
        padding_mask: bool `(batch, slots)`, true on real slots.
        training: bool.

    Returns:
        `(attended, weights)`: float `(batch, dim)`, the attention output for
        the anchor, and float `(batch, slots)`, the attention weights averaged
        over heads (they sum to 1 over the real slots).
    """

    def __init__(self, num_heads, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        if num_heads < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError(f"Need num_heads >= 1 and 0 <= dropout < 1, got {num_heads} and {dropout}")
        self.num_heads = num_heads
        self.dropout = dropout

    def build(self, anchor_shape, sequence_shape, padding_mask_shape=None):
        dim = sequence_shape[-1]
        if dim % self.num_heads:
            raise ValueError(f"The embedding size ({dim}) must be divisible by num_heads ({self.num_heads})")
        self.query_norm = layers.LayerNormalization(name="query_norm")
        self.sequence_norm = layers.LayerNormalization(name="sequence_norm")
        self.attention = layers.MultiHeadAttention(
            self.num_heads, dim // self.num_heads, dropout=self.dropout, name="attention"
        )
        query_shape = (anchor_shape[0], 1, anchor_shape[-1])
        self.query_norm.build(query_shape)
        self.sequence_norm.build(sequence_shape)
        self.attention.build(query_shape, sequence_shape)

    def call(self, anchor, sequence, padding_mask, training=None):
        query = self.query_norm(anchor[:, None, :])
        values = self.sequence_norm(sequence)
        attended, scores = self.attention(
            query,
            values,
            attention_mask=attention_mask_from_padding(padding_mask, query_length=1),
            return_attention_scores=True,
            training=training,
        )
        # scores: (batch, heads, 1, slots) -> (batch, slots)
        return attended[:, 0, :], ops.mean(scores[:, :, 0, :], axis=1)

    def compute_output_shape(self, anchor_shape, sequence_shape, padding_mask_shape=None):
        return (anchor_shape[0], sequence_shape[-1]), tuple(sequence_shape[:2])

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout}
