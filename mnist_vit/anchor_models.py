"""Models for the anchor-in-sequence task.

Every model takes the same inputs and gives the same output:
    inputs["anchor"]: float32 `(batch, 28, 28, 1)`, raw pixels 0..255.
    inputs["sequence"]: float32 `(batch, slots, 28, 28, 1)`, raw pixels 0..255.
    inputs["mask"]: bool `(batch, slots)`, true on real slots.
    output: float32 `(batch, 1)`, the probability that the anchor's digit
        occurs among the real slots.

The cross-attention model accepts any number of slots; the fully-connected
baseline needs exactly `max_len`. One encoder (shared weights) embeds the
anchor and every slot.
"""

import keras
from keras import layers

from mnist_vit.cross_attention import AnchorCrossAttention
from mnist_vit.encoder import IMAGE_INPUT_SHAPE, build_encoder
from mnist_vit.sequences import MAX_LEN
from mnist_vit.slots import FlattenSlots, ZeroPadding
from mnist_vit.sum_models import encode_slots, sequence_inputs
from mnist_vit.transformer_block import TransformerEncoderBlock

ATTENTION_LAYER = "cross_attention"


def anchor_inputs():
    """The `"anchor"`, `"sequence"` and `"mask"` inputs (any slot count)."""
    return {"anchor": keras.Input(IMAGE_INPUT_SHAPE, name="anchor"), **sequence_inputs()}


def build_anchor_transformer(
    embed_dim=64,
    filters=(16, 32),
    kernel_size=5,
    encoder_dropout=0.1,
    augment=True,
    num_blocks=0,
    num_heads=4,
    ff_dim=128,
    dropout=0.1,
):
    """Cross-attention detector: encoder, optional self-attention blocks, anchor-to-sequence attention, head.

    The head is one logistic unit on each head's best match score (the
    largest attention logit over the real slots) and the attention output:
    the anchor's digit occurs when some slot matches it well. A better match
    can only mean "more likely present", so the match scores' weights are
    constrained non-negative and start at `1 / num_heads`; the attention
    output's weights start at zero. (With one free Dense layer on both, half
    of the match weights started negative and the first epochs went into
    undoing that: validation accuracy 0.73 after 4 epochs, against 0.92
    with this head.)

    Args are those of `build_sum_transformer`; `num_blocks` counts the
    self-attention blocks over the sequence before the cross-attention
    (0 by default); `dropout` applies in those blocks and to the attention
    weights.
    """
    inputs = anchor_inputs()
    encoder = build_encoder(embed_dim, filters, kernel_size, encoder_dropout, augment)
    anchor = encoder(inputs["anchor"])
    sequence = encode_slots(encoder, inputs["sequence"])
    for i in range(num_blocks):
        sequence = TransformerEncoderBlock(num_heads, ff_dim, dropout, name=f"block_{i}")(
            sequence, padding_mask=inputs["mask"]
        )
    attended, _, match = AnchorCrossAttention(num_heads, dropout, name=ATTENTION_LAYER)(
        anchor, sequence, padding_mask=inputs["mask"]
    )
    match_logit = layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant(1.0 / num_heads),
        kernel_constraint=keras.constraints.NonNeg(),
        name="match_logit",
    )(match)
    attended_logit = layers.Dense(1, kernel_initializer="zeros", use_bias=False, name="attended_logit")(
        attended
    )
    logit = layers.Add(name="logit")([match_logit, attended_logit])
    outputs = layers.Activation("sigmoid", name="probability")(logit)
    return keras.Model(inputs, outputs, name="anchor_transformer")


def attention_weights_model(model):
    """A model sharing `model`'s layers that outputs the cross-attention weights.

    Args:
        model: a model from `build_anchor_transformer` (trained or loaded).

    Returns:
        A `keras.Model` with the same inputs, outputting float `(batch, slots)`:
        the anchor's attention weight on each slot, averaged over heads.
    """
    _, weights, _ = model.get_layer(ATTENTION_LAYER).output
    return keras.Model(model.inputs, weights, name="anchor_attention_weights")


def build_anchor_fc(
    embed_dim=64,
    filters=(16, 32),
    kernel_size=5,
    encoder_dropout=0.1,
    augment=True,
    dropout=0.1,
    head_units=64,
    max_len=MAX_LEN,
):
    """Fully-connected baseline: anchor and `max_len` slot embeddings, concatenated, dense layers.

    Padded slots are zeroed. Needs exactly `max_len` slots.
    """
    inputs = anchor_inputs()
    encoder = build_encoder(embed_dim, filters, kernel_size, encoder_dropout, augment)
    anchor = encoder(inputs["anchor"])
    sequence = encode_slots(encoder, inputs["sequence"])
    sequence = ZeroPadding(name="zero_padding")(sequence, inputs["mask"])
    x = layers.Concatenate(name="concat")([anchor, FlattenSlots(max_len, name="flatten_slots")(sequence)])
    x = layers.Dense(2 * head_units, activation="relu", name="fc_hidden_0")(x)
    x = layers.Dropout(dropout, name="fc_dropout")(x)
    x = layers.Dense(head_units, activation="relu", name="fc_hidden_1")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model(inputs, outputs, name="anchor_fc")


ANCHOR_BUILDERS = {"transformer": build_anchor_transformer, "fc": build_anchor_fc}
