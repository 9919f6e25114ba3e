"""A Transformer encoder block with a padding mask."""

import contextlib
import warnings

import keras
from keras import layers, ops


def attention_mask_from_padding(padding_mask, query_length=None):
    """Padding mask `(batch, keys)` -> attention mask `(batch, queries, keys)`.

    Each query may attend to the real keys only. `query_length` defaults to
    the number of keys (self-attention); pass 1 for a single query such as
    the anchor in cross-attention.
    """
    keys = ops.cast(padding_mask, "bool")[:, None, :]
    if query_length is None:
        queries = ops.ones_like(padding_mask, dtype="bool")[:, :, None]
    else:
        queries = ops.ones((ops.shape(padding_mask)[0], query_length, 1), dtype="bool")
    return ops.logical_and(queries, keys)


@contextlib.contextmanager
def one_key_softmax_allowed():
    """Silences Keras's warning about a softmax over an axis of size 1, and only that warning.

    A sequence of one image has one slot, and attention over it is a softmax
    over a single key: always 1, as it should be. Keras warns whenever it
    traces such a softmax (a batch of one-image sequences in training, a
    one-image prediction); the attention layers trace theirs inside this.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"You are using a softmax over axis .* has size 1\.")
        yield


@keras.saving.register_keras_serializable(package="mnist_vit")
class TransformerEncoderBlock(keras.layers.Layer):
    """Pre-norm Transformer encoder block: self-attention, then feed-forward.

    `x + MHA(LN(x))`, then `x + FFN(LN(x))`, with dropout after attention and
    feed-forward. Padded slots are never attended to; their own outputs are
    meaningless and must be ignored downstream (e.g. by `MaskedSum`).

    Args:
        num_heads: int. Attention heads; `key_dim = dim // num_heads`.
        ff_dim: int. Hidden units of the feed-forward network.
        dropout: float. Dropout rate. Defaults to `0.0`.
        layer_norm_epsilon: float. Defaults to `1e-5`.

    Call arguments:
        inputs: float `(batch, slots, dim)`.
        padding_mask: bool `(batch, slots)`, true on real slots. None means
            every slot is real.
        training: bool.

    Returns:
        float `(batch, slots, dim)`.

    Example:
    >>> block = TransformerEncoderBlock(num_heads=4, ff_dim=64)
    >>> block(keras.ops.ones((2, 5, 32)), padding_mask=keras.ops.ones((2, 5), "bool")).shape
    (2, 5, 32)
    """

    def __init__(self, num_heads, ff_dim, dropout=0.0, layer_norm_epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if num_heads < 1 or ff_dim < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"Need num_heads >= 1, ff_dim >= 1 and 0 <= dropout < 1, got "
                f"num_heads={num_heads}, ff_dim={ff_dim}, dropout={dropout}"
            )
        self.num_heads = num_heads
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim % self.num_heads:
            raise ValueError(f"The embedding size ({dim}) must be divisible by num_heads ({self.num_heads})")
        self.attention_norm = layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="attention_norm"
        )
        self.attention = layers.MultiHeadAttention(
            self.num_heads, dim // self.num_heads, dropout=self.dropout, name="attention"
        )
        self.attention_dropout = layers.Dropout(self.dropout, name="attention_dropout")
        self.ff_norm = layers.LayerNormalization(epsilon=self.layer_norm_epsilon, name="ff_norm")
        self.ff_hidden = layers.Dense(self.ff_dim, activation="relu", name="ff_hidden")
        self.ff_output = layers.Dense(dim, name="ff_output")
        self.ff_dropout = layers.Dropout(self.dropout, name="ff_dropout")
        self.attention_norm.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.ff_norm.build(input_shape)
        self.ff_hidden.build(input_shape)
        self.ff_output.build((*input_shape[:-1], self.ff_dim))

    def call(self, inputs, padding_mask=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            attention_mask = attention_mask_from_padding(padding_mask)
        x = self.attention_norm(inputs)
        with one_key_softmax_allowed():
            x = self.attention(x, x, attention_mask=attention_mask, training=training)
        x = inputs + self.attention_dropout(x, training=training)
        y = self.ff_output(self.ff_hidden(self.ff_norm(x)))
        return x + self.ff_dropout(y, training=training)

    def compute_output_shape(self, inputs_shape, padding_mask_shape=None):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }
