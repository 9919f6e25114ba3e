"""Models for the sequence-sum task.

Every model takes the same inputs and gives the same output:
    inputs["sequence"]: float32 `(batch, slots, 28, 28, 1)`, raw pixels 0..255.
    inputs["mask"]: bool `(batch, slots)`, true on real slots.
    output: float32 `(batch, 1)`, the predicted sum of the digits.

The Transformer and Deep Sets models accept any number of slots; the
fully-connected baseline needs exactly `max_len`. Padded slots never change a
prediction (the models are tested for it).

The Transformer and Deep Sets models read each slot as a distribution over
the digits 0..9. They are `SumModel`s: they train on the expected sum
(Huber loss) plus the negative log-likelihood of the true sum under the
slots' convolved distributions, and predict the most likely sum
(`MostLikelySum`). The fully-connected baseline has no per-slot digits; it
trains on and predicts one regressed number.
"""

import keras
from keras import layers

from mnist_vit.data import NUM_CLASSES
from mnist_vit.digit_value import DigitValue, MostLikelySum
from mnist_vit.encoder import IMAGE_INPUT_SHAPE, build_encoder
from mnist_vit.pooling import MaskedSum
from mnist_vit.sequences import MAX_LEN
from mnist_vit.slots import FlattenSlots, FoldSlots, UnfoldSlots, ZeroPadding
from mnist_vit.sum_distribution import SumModel
from mnist_vit.transformer_block import TransformerEncoderBlock

MEAN_DIGIT = 4.5


def mean_sum(max_len):
    """Mean digit sum of sequences whose lengths are uniform on 1..max_len."""
    return MEAN_DIGIT * (max_len + 1) / 2


def sequence_inputs(slots=None):
    """The `"sequence"` and `"mask"` inputs; `slots=None` accepts any count."""
    return {
        "sequence": keras.Input((slots, *IMAGE_INPUT_SHAPE), name="sequence"),
        "mask": keras.Input((slots,), dtype="bool", name="mask"),
    }


def encode_slots(encoder, sequence):
    """Applies one image encoder to every slot: `(batch, slots, 28, 28, 1)` -> `(batch, slots, dim)`."""
    return UnfoldSlots(name="unfold_slots")(encoder(FoldSlots(name="fold_slots")(sequence)), sequence)


def slot_digits(x, head_units, dropout):
    """Per-slot head: layer norm, Dense-ReLU, dropout, digit logits.

    `(batch, slots, dim)` -> `(batch, slots, 10)` logits of each slot's digit.
    """
    x = layers.LayerNormalization(name="final_norm")(x)
    x = layers.Dense(head_units, activation="relu", name="head_hidden")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    return layers.Dense(NUM_CLASSES, name="digit_logits")(x)


def expected_sum(logits, mask):
    """Sum of the real slots' expected digit values (`DigitValue`): `(batch, 1)`.

    An untrained head gives about 4.5 per slot, so the sum has the scale of a
    digit sum from the start.
    """
    return MaskedSum(name="sum")(DigitValue(name="digit_value")(logits), mask)


def sum_model(inputs, expected, logits, name):
    """A `SumModel` whose prediction is the most likely sum near `expected` (`MostLikelySum`)."""
    prediction = MostLikelySum(name="prediction")(logits, expected, inputs["mask"])
    return SumModel(inputs, [prediction, expected, logits], name=name)


def build_sum_transformer(
    embed_dim=64,
    filters=(16, 32),
    kernel_size=5,
    encoder_dropout=0.1,
    augment=True,
    num_blocks=1,
    num_heads=4,
    ff_dim=128,
    dropout=0.1,
    head_units=64,
    encoder=None,
):
    """Transformer sum model: encoder, self-attention blocks, per-slot digits, masked sum.

    Each real slot's output after the blocks goes through a small head to a
    distribution over the digit values 0..9. The expected sum (the real
    slots' expected values, summed) is 4.5 per image for an untrained model:
    the output scales with the count without any fixed rescaling. The model
    predicts the sum of the slots' most likely digits (`MostLikelySum`) and
    trains on the expected sum and the sum's distribution (`SumModel`).

    Args:
        embed_dim, filters, kernel_size, encoder_dropout, augment: the encoder's
            (see `build_encoder`).
        num_blocks: int. Transformer encoder blocks.
        num_heads: int. Attention heads (must divide `embed_dim`).
        ff_dim: int. Feed-forward hidden units.
        dropout: float. Dropout in the blocks and the head.
        head_units: int. Hidden units of the per-slot head.
        encoder: a prebuilt image encoder model (raw `(28, 28, 1)` image ->
            `(embed_dim,)`) to use instead of building one from the encoder
            args, e.g. another architecture's for a benchmark.
    """
    inputs = sequence_inputs()
    encoder = encoder or build_encoder(embed_dim, filters, kernel_size, encoder_dropout, augment)
    x = encode_slots(encoder, inputs["sequence"])
    for i in range(num_blocks):
        x = TransformerEncoderBlock(num_heads, ff_dim, dropout, name=f"block_{i}")(
            x, padding_mask=inputs["mask"]
        )
    logits = slot_digits(x, head_units, dropout)
    return sum_model(inputs, expected_sum(logits, inputs["mask"]), logits, "sum_transformer")


def build_sum_deepsets(
    embed_dim=64,
    filters=(16, 32),
    kernel_size=5,
    encoder_dropout=0.1,
    augment=True,
    dropout=0.1,
    head_units=64,
):
    """Deep Sets sum model: encoder, per-item MLP to a value, masked sum, MLP.

    phi is the Transformer's per-slot head (`slot_digits`, `expected_sum`)
    applied to each image on its own, so the two models differ only in the
    self-attention blocks. rho is a residual MLP on the pooled sum, `s + MLP(s / m)`, whose
    last layer starts at zero, with `m` the mean sum of lengths 1..max_len:
    the model starts out predicting the sum of the per-item values. (A plain
    MLP rho on a pooled vector, the first design, did not learn even to
    count in this budget: Adam moves each weight by about the learning rate
    per step, too slowly to grow outputs of 0..90 from unit-scale features.
    Without the `1 / m`, the MLP saw inputs up to 90, so each such step
    moved the output by about a half and the rounded sums stayed noisy:
    exact accuracy 0.71, 0.88 on single images.) Like the Transformer, a
    `SumModel`: it trains on rho's output and phi's digit distributions and
    predicts the most likely sum, moved toward rho's output by less than 0.5.
    Args are those of `build_sum_transformer` that apply.
    """
    inputs = sequence_inputs()
    encoder = build_encoder(embed_dim, filters, kernel_size, encoder_dropout, augment)
    x = encode_slots(encoder, inputs["sequence"])
    logits = slot_digits(x, head_units, dropout)
    pooled = expected_sum(logits, inputs["mask"])
    x = layers.Rescaling(1.0 / mean_sum(MAX_LEN), name="rho_scale")(pooled)
    x = layers.Dense(head_units, activation="relu", name="rho_hidden")(x)
    x = layers.Dense(1, kernel_initializer="zeros", name="rho_output")(x)
    return sum_model(inputs, layers.Add(name="rho")([pooled, x]), logits, "sum_deepsets")


def build_sum_fc(
    embed_dim=64,
    filters=(16, 32),
    kernel_size=5,
    encoder_dropout=0.1,
    augment=True,
    dropout=0.1,
    head_units=64,
    max_len=MAX_LEN,
):
    """Fully-connected sum baseline: encoder, padded slots zeroed, flattened, dense layers.

    Needs exactly `max_len` slots. The output bias starts at the mean sum of
    uniform lengths 1..max_len, `4.5 * (max_len + 1) / 2`.
    """
    inputs = sequence_inputs()
    encoder = build_encoder(embed_dim, filters, kernel_size, encoder_dropout, augment)
    x = encode_slots(encoder, inputs["sequence"])
    x = ZeroPadding(name="zero_padding")(x, inputs["mask"])
    x = FlattenSlots(max_len, name="flatten_slots")(x)
    x = layers.Dense(2 * head_units, activation="relu", name="fc_hidden_0")(x)
    x = layers.Dropout(dropout, name="fc_dropout")(x)
    x = layers.Dense(head_units, activation="relu", name="fc_hidden_1")(x)
    outputs = layers.Dense(
        1, bias_initializer=keras.initializers.Constant(mean_sum(max_len)), name="fc_output"
    )(x)
    return keras.Model(inputs, outputs, name="sum_fc")


SUM_BUILDERS = {
    "transformer": build_sum_transformer,
    "deepsets": build_sum_deepsets,
    "fc": build_sum_fc,
}
