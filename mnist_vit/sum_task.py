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

import keras
import numpy as np
from keras import layers, ops

from mnist_vit.backbone import sequence_backbone
from mnist_vit.digit_head import expected_sum, slot_digits, sum_model
from mnist_vit.hyperparameters import HeadConfig
from mnist_vit.metrics import by_length
from mnist_vit.presentation import Examples, Presentation, register_presentation
from mnist_vit.results import with_std
from mnist_vit.sequences import MAX_LEN
from mnist_vit.slots import ClearPaddedSlots, FlattenSlots
from mnist_vit.task_model import TaskModel
from mnist_vit.tasks import LARGE_PRESET, ModelSpec, Task, register_task

NAME = "sum"
MEAN_DIGIT = 4.5


def mean_sum(max_len):
    """Mean digit sum of sequences whose lengths are uniform on 1..max_len."""
    return MEAN_DIGIT * (max_len + 1) / 2


def digit_sums(digits, mask, anchor_digits=None):
    """Targets: the sum of the real slots' digits, float32 `(n,)` (see `Task.targets`)."""
    return np.where(mask, digits, 0).sum(axis=1).astype("float32")


@keras.saving.register_keras_serializable(package="mnist_vit")
def exact_match(y_true, y_pred):
    """1.0 where `round(y_pred) == y_true`, else 0.0; shapes `(batch, 1)`."""
    return ops.cast(ops.equal(ops.round(y_pred), ops.cast(y_true, y_pred.dtype)), "float32")


@keras.saving.register_keras_serializable(package="mnist_vit")
class ExactAccuracy(keras.metrics.MeanMetricWrapper):
    """Fraction of sequences whose rounded predicted sum equals the true sum."""

    def __init__(self, name="exact_accuracy", dtype=None):
        super().__init__(exact_match, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def sum_metrics(predictions, targets, lengths):
    """Test metrics of the sum task.

    Args:
        predictions: float `(n,)` or `(n, 1)`, predicted sums.
        targets: float `(n,)`, true sums.
        lengths: int `(n,)`, sequence lengths.

    Returns:
        dict with `exact_accuracy` (round(prediction) == sum), `mse`, `mae`
        and `exact_accuracy_by_length` (`{length: accuracy}`).
    """
    predictions = np.asarray(predictions, dtype="float64").reshape(-1)
    targets = np.asarray(targets, dtype="float64")
    exact = np.round(predictions) == targets
    return {
        "exact_accuracy": float(exact.mean()),
        "mse": float(np.mean((predictions - targets) ** 2)),
        "mae": float(np.mean(np.abs(predictions - targets))),
        "exact_accuracy_by_length": by_length(exact, lengths),
    }


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
    x = ClearPaddedSlots(name="clear_padding")(x, inputs["mask"])
    x = FlattenSlots(max_len, name="flatten_slots")(x)
    x = layers.Dense(2 * head.head_units, activation="relu", name="fc_hidden_0")(x)
    x = layers.Dropout(head.dropout, name="fc_dropout")(x)
    x = layers.Dense(head.head_units, activation="relu", name="fc_hidden_1")(x)
    outputs = layers.Dense(
        1, bias_initializer=keras.initializers.Constant(mean_sum(max_len)), name="fc_output"
    )(x)
    return TaskModel(inputs, outputs, task=NAME, name="sum_fc")


def describe_prediction(value, count):
    """The command line's answer."""
    return f"predicted sum: {round(value)} (model output {value:.3f}) for {count} images"


def confidence(value):
    """1 for an output on a whole number, 0 half-way between two."""
    return max(0.0, 1.0 - 2.0 * abs(value - round(value)))


def describe_results(test):
    """The README's summary of a model's test metrics."""
    text = f"exact {with_std(test, 'exact_accuracy')}, MSE {with_std(test, 'mse', 3)}, MAE {test['mae']:.3f}"
    if test.get("exact_accuracy_by_long_length"):
        text += f", exact at length 20: {with_std(test, 'exact_accuracy_by_long_length', 3, entry='20')}"
    return text


def example_caption(value, target):
    """The caption of one example in the examples figure, and whether the rounded sum is right."""
    return f"pred {value:.2f}, true {target:.0f}", round(value) == target


SUM = register_task(
    Task(
        name=NAME,
        has_anchor=False,
        targets=digit_sums,
        models={
            "transformer": ModelSpec(build_sum_transformer),
            "deepsets": ModelSpec(build_sum_deepsets),
            "fc": ModelSpec(build_sum_fc, any_length=False),
        },
        loss=lambda: keras.losses.Huber(delta=1.0),
        metrics=lambda: [ExactAccuracy(), "mse", "mae"],
        monitor="val_exact_accuracy",
        mode="max",
        test_metrics=sum_metrics,
        headline="exact_accuracy",
        key_metrics=("mse",),
        long_lengths=True,
        num_blocks=(1, 2),
        presets={
            "cpu": dict(
                trials=3,
                search_epochs=2,
                search_margin=0.04,  # experiments/results/search_study_sum.json: suggested_margin
                epochs=19,
                train_sequences=16000,
                seeds=3,
            ),
            "large": LARGE_PRESET,
        },
    )
)

register_presentation(
    NAME,
    Presentation(
        labels={"transformer": "Transformer", "deepsets": "Deep Sets", "fc": "fully connected"},
        describe_prediction=describe_prediction,
        confidence=confidence,
        describe_results=describe_results,
        original={"transformer": "0.66 exact, MSE 1.18", "fc": "0.27 exact, MSE 1.69"},
        examples=Examples("Sum task: test sequences, Transformer prediction vs truth", example_caption),
    ),
)
