"""The sequence-sum task: given 1-10 digit images, predict the sum of their digits.

Every model takes the same inputs and gives the same output:
    inputs["sequence"]: float32 `(batch, slots, 28, 28, 1)`, raw pixels 0..255.
    inputs["mask"]: bool `(batch, slots)`, true on real slots.
    output: float32 `(batch, 1)`, the predicted sum of the digits.

The Transformer and Deep Sets models accept any number of slots and read
each slot as a digit (`mnist_vit.digit_head`); the fully-connected baseline
needs exactly `max_len` slots and regresses one number. Padded slots never
change a prediction. Models learn from sums only, never from digit labels.
"""

import numpy as np
from keras import layers

from mnist_vit.backbone import sequence_backbone
from mnist_vit.counting import COUNT_TRAINING, count_presentation, count_presets, describe_count_results
from mnist_vit.digit_head import expected_sum, slot_digits, sum_model
from mnist_vit.heads import fully_connected_count
from mnist_vit.hyperparameters import HeadConfig
from mnist_vit.presentation import register_presentation
from mnist_vit.results import with_std
from mnist_vit.sequences import MAX_LEN
from mnist_vit.task_model import TaskModel
from mnist_vit.tasks import ATTENTION, FULLY_CONNECTED, POOLING, ModelSpec, Task, register_task

NAME = "sum"
MEAN_DIGIT = 4.5


def mean_sum(max_len):
    """Mean digit sum of sequences whose lengths are uniform on 1..max_len."""
    return MEAN_DIGIT * (max_len + 1) / 2


def digit_sums(digits, mask, anchor_digits=None):
    """Targets: the sum of the real slots' digits, float32 `(n,)` (see `Task.targets`)."""
    return np.where(mask, digits, 0).sum(axis=1).astype("float32")


def build_sum_transformer(encoder, head=HeadConfig()):
    """Transformer sum model: encoder, self-attention blocks, per-slot digits, most likely sum.

    Each real slot's output after `head.num_blocks` pre-norm blocks (padding
    never attended to) goes through the digit head (`slot_digits`); the
    model predicts the most likely sum and trains on the expected sum and
    the sum's distribution (`mnist_vit.digit_head.SumModel`).

    Args:
        encoder: image encoder, raw `(28, 28, 1)` image -> `(embed_dim,)`.
        head: `HeadConfig`. `num_blocks`, `num_heads` (must divide
            `embed_dim`), `ff_dim`, `dropout` (blocks and head), `head_units`.

    Returns:
        A `SumModel` (see the module docstring for inputs and output).
    """
    inputs, x, _ = sequence_backbone(encoder, head)
    logits = slot_digits(x, head.head_units, head.dropout)
    return sum_model(inputs, expected_sum(logits, inputs["mask"]), logits, NAME, "sum_transformer")


def build_sum_deepsets(encoder, head=HeadConfig()):
    """Deep Sets sum model: per-image digit head (phi), masked sum, residual MLP (rho).

    phi is the Transformer's per-slot head applied to each image on its own,
    so the two models differ only in the self-attention blocks. rho is
    `s + MLP(s / m)` on the expected sum `s`, with `m` the mean sum of
    lengths 1..max_len and the MLP's last layer starting at zero: the model
    starts out predicting the sum of the per-image values, and the MLP sees
    unit-scale inputs. A `SumModel`: it trains on rho's output and phi's
    digit distributions and predicts the most likely sum near rho's output.
    Uses `head.dropout` and `head.head_units`.
    """
    inputs, x, _ = sequence_backbone(encoder, head, attention=False)
    logits = slot_digits(x, head.head_units, head.dropout)
    pooled = expected_sum(logits, inputs["mask"])
    x = layers.Rescaling(1.0 / mean_sum(MAX_LEN), name="rho_scale")(pooled)
    x = layers.Dense(head.head_units, activation="relu", name="rho_hidden")(x)
    x = layers.Dense(1, kernel_initializer="zeros", name="rho_output")(x)
    return sum_model(inputs, layers.Add(name="rho")([pooled, x]), logits, NAME, "sum_deepsets")


def build_sum_fc(encoder, head=HeadConfig(), max_len=MAX_LEN):
    """Fully-connected sum baseline: encoder, padded slots zeroed, flattened, dense layers.

    Takes at most `max_len` slots. The output bias starts at the mean sum of
    uniform lengths 1..max_len, `4.5 * (max_len + 1) / 2`. Uses
    `head.dropout` and `head.head_units`.
    """
    inputs, x, _ = sequence_backbone(encoder, head, attention=False)
    outputs = fully_connected_count(x, inputs["mask"], head, max_len, start=mean_sum(max_len))
    return TaskModel(inputs, outputs, task=NAME, name="sum_fc")


def describe_prediction(value, count):
    """The command line's answer."""
    return f"predicted sum: {round(value)} (model output {value:.3f}) for {count} images"


LENGTHS_DESCRIBED = (20, 50, 100)  # the long lengths whose accuracy the README gives


def describe_results(test):
    """The README's summary of a model's test metrics."""
    text = describe_count_results(test)
    for length in LENGTHS_DESCRIBED:
        if str(length) in test.get("exact_accuracy_by_long_length", {}):
            accuracy = with_std(test, "exact_accuracy_by_long_length", 3, entry=str(length))
            text += f", exact at length {length}: {accuracy}"
    if "digit_probe_accuracy" in test:
        text += f", digit probe {with_std(test, 'digit_probe_accuracy')}"
    return text


SUM = register_task(
    Task(
        name=NAME,
        has_anchor=False,
        targets=digit_sums,
        models={
            "transformer": ModelSpec(build_sum_transformer, ATTENTION),
            "deepsets": ModelSpec(build_sum_deepsets, POOLING),
            "fc": ModelSpec(build_sum_fc, FULLY_CONNECTED, any_length=False),
        },
        **COUNT_TRAINING,
        long_lengths=True,
        digit_probe=True,
        num_blocks=(1, 2),
        # experiments/results/search_study_sum.json: suggested_margin
        presets=count_presets(search_margin=0.04),
    )
)

register_presentation(
    NAME,
    count_presentation(
        "Sum task: test sequences, Transformer prediction vs truth",
        describe_prediction,
        describe_results=describe_results,
        original={"transformer": "0.66 exact, MSE 1.18", "fc": "0.27 exact, MSE 1.69"},
    ),
)
