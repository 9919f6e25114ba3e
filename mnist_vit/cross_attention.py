"""Cross-attention from one query embedding (the anchor) to a sequence."""

import math

import keras
from keras import layers, ops

from mnist_vit.transformer_block import one_key_softmax_allowed


@keras.saving.register_keras_serializable(package="mnist_vit")
class AnchorCrossAttention(keras.layers.Layer):
    """Multi-head attention with the anchor as query and the sequence as keys and values.

    Anchor and sequence are layer-normalised (one shared normalisation) and
    projected per head (`key_dim = dim // num_heads`). Query and keys share
    one projection: anchor and slots are embeddings of the same kind, and
    matching them is symmetric, so the logits `(W a) . (W s)` measure
    similarity from the first training step (with separate random
    projections they start as noise). Values have their own projection.
    Scaled dot-product logits over the slots are masked, so padded slots get
    attention weight exactly 0 and their content cannot change any output.

    Besides the attention output, the layer returns each head's best match
    score: the largest logit over the real slots. Softmax weights only say
    where the anchor looks, not how well the best slot matches it; the
    match score says that, which is what "does the anchor's digit occur?"
    asks.

    Args:
        num_heads: int. Attention heads.
        dropout: float. Dropout on the attention weights. Defaults to `0.0`.

    Call arguments:
        anchor: float `(batch, dim)`.
        sequence: float `(batch, slots, dim)`.
        padding_mask: bool `(batch, slots)`, true on real slots; every row
            needs at least one real slot.
        training: bool.

    Returns:
        `(attended, weights, match)`: float `(batch, dim)`, the attention
        output for the anchor; float `(batch, slots)`, the attention weights
        averaged over heads (they sum to 1 over the real slots); float
        `(batch, num_heads)`, each head's largest logit over the real slots.
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
        self.key_dim = dim // self.num_heads
        heads = (self.num_heads, self.key_dim)
        self.norm = layers.LayerNormalization(name="norm")
        self.match_dense = layers.EinsumDense("bsd,dhk->bshk", (None, *heads), name="match_projection")
        self.value_dense = layers.EinsumDense("bsd,dhk->bshk", (None, *heads), bias_axes="hk", name="value")
        self.output_dense = layers.EinsumDense("bhk,hkd->bd", (dim,), bias_axes="d", name="attention_output")
        self.weights_dropout = layers.Dropout(self.dropout, name="weights_dropout")
        self.norm.build(sequence_shape)
        self.match_dense.build(sequence_shape)
        self.value_dense.build(sequence_shape)
        self.output_dense.build((anchor_shape[0], *heads))

    def call(self, anchor, sequence, padding_mask, training=None):
        query = self.match_dense(self.norm(anchor[:, None, :]))[:, 0]  # (batch, heads, key_dim)
        sequence = self.norm(sequence)
        keys = self.match_dense(sequence)  # (batch, slots, heads, key_dim)
        values = self.value_dense(sequence)
        logits = ops.einsum("bhk,bshk->bhs", query, keys) / math.sqrt(self.key_dim)
        real = ops.cast(padding_mask, "bool")[:, None, :]  # (batch, 1, slots)
        logits = ops.where(real, logits, ops.full_like(logits, -1e9))
        with one_key_softmax_allowed():
            weights = ops.softmax(logits, axis=-1)  # (batch, heads, slots); 0 on padding
        dropped = self.weights_dropout(weights, training=training)
        attended = self.output_dense(ops.einsum("bhs,bshk->bhk", dropped, values))
        return attended, ops.mean(weights, axis=1), ops.max(logits, axis=-1)

    def compute_output_shape(self, anchor_shape, sequence_shape, padding_mask_shape=None):
        return (
            (anchor_shape[0], sequence_shape[-1]),
            tuple(sequence_shape[:2]),
            (anchor_shape[0], self.num_heads),
        )

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout}
