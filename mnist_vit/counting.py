"""What every task whose answer is a whole number shares (the sum, distinct digits, ascents).

A model outputs one number per sequence, float32 `(batch, 1)`; its answer is
that number rounded. Training minimises a Huber loss and watches
`ExactAccuracy` (`COUNT_TRAINING`, the `Task` fields these tasks share); the
test reports the exact share, MSE and MAE (`count_metrics`); the command line
says how close the output is to a whole number (`whole_number_confidence`).
`count_models` builds a counting task's attention model, Deep Sets and
fully-connected baselines; `count_presets` and `count_presentation` give the
budgets and the wording these tasks share.
"""

import keras
import numpy as np
from keras import ops

from mnist_vit.backbone import sequence_backbone
from mnist_vit.heads import fully_connected_count, pooled_count
from mnist_vit.hyperparameters import HeadConfig
from mnist_vit.metrics import by_length
from mnist_vit.presentation import Examples, Presentation
from mnist_vit.results import with_std
from mnist_vit.sequences import MAX_LEN
from mnist_vit.task_model import TaskModel
from mnist_vit.tasks import ATTENTION, FULLY_CONNECTED, LARGE_PRESET, POOLING, ModelSpec

LABELS = {"transformer": "Transformer", "deepsets": "Deep Sets", "fc": "fully connected"}


@keras.saving.register_keras_serializable(package="mnist_vit")
def exact_match(y_true, y_pred):
    """1.0 where `round(y_pred) == y_true`, else 0.0; shapes `(batch, 1)`."""
    return ops.cast(ops.equal(ops.round(y_pred), ops.cast(y_true, y_pred.dtype)), "float32")


@keras.saving.register_keras_serializable(package="mnist_vit")
class ExactAccuracy(keras.metrics.MeanMetricWrapper):
    """Fraction of sequences whose rounded prediction equals the true whole number."""

    def __init__(self, name="exact_accuracy", dtype=None):
        super().__init__(exact_match, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def count_metrics(predictions, targets, lengths):
    """Test metrics of a whole-number answer.

    Args:
        predictions: float `(n,)` or `(n, 1)`, the model outputs.
        targets: float `(n,)`, the true whole numbers.
        lengths: int `(n,)`, sequence lengths.

    Returns:
        dict with `exact_accuracy` (round(prediction) == target), `mse`,
        `mae` and `exact_accuracy_by_length` (`{length: accuracy}`).
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


def whole_number_confidence(value):
    """1 for an output on a whole number, 0 half-way between two."""
    return max(0.0, 1.0 - 2.0 * abs(value - round(value)))


def whole_number_caption(value, target):
    """An examples figure's caption for output `value` and true `target`, and whether the answer is right."""
    return f"pred {value:.2f}, true {target:.0f}", round(value) == target


def describe_count_results(test):
    """The README's summary of a whole-number task's test metrics."""
    return f"exact {with_std(test, 'exact_accuracy')}, MSE {with_std(test, 'mse', 3)}, MAE {test['mae']:.3f}"


# The `Task` fields of every whole-number task.
COUNT_TRAINING = dict(
    loss=lambda: keras.losses.Huber(delta=1.0),
    metrics=lambda: [ExactAccuracy(), "mse", "mae"],
    monitor="val_exact_accuracy",
    mode="max",
    test_metrics=count_metrics,
    headline="exact_accuracy",
    key_metrics=("mse",),
)


def count_presets(**cpu_changes):
    """A whole-number task's presets: `"cpu"` (an hour on 2 CPU cores) with `cpu_changes`, and `"large"`."""
    cpu = dict(trials=3, search_epochs=2, epochs=19, train_sequences=16000, seeds=3)
    return {"cpu": {**cpu, **cpu_changes}, "large": LARGE_PRESET}


def count_presentation(
    title, describe_prediction, labels=LABELS, describe_results=describe_count_results, original=None
):
    """A whole-number task's `Presentation`: answers are rounded outputs; `title` titles the examples."""
    return Presentation(
        labels=labels,
        describe_prediction=describe_prediction,
        confidence=whole_number_confidence,
        describe_results=describe_results,
        original=original or {},
        examples=Examples(title, whole_number_caption),
    )


def count_models(task_name, start, attention_head, pooling_head=None, positions=False):
    """A counting task's three models: `{"transformer", "deepsets", "fc"}` -> `ModelSpec`.

    Every model takes `"sequence"` and `"mask"` and outputs the count,
    float32 `(batch, 1)`:
    - `transformer`: the backbone's self-attention blocks, then
      `attention_head`, a function `(slots, mask, head) -> (batch, 1)`;
    - `deepsets`: each slot on its own (no blocks), then `pooling_head`
      (same signature), by default an MLP on the summed slots that starts
      at `start`, the mean count (`heads.pooled_count`);
    - `fc`: `MAX_LEN` slots flattened in order, dense layers, starting at `start`.
    With `positions`, the transformer and Deep Sets add a learned position
    embedding to each slot (so they see order and take at most `MAX_LEN`
    slots); the fully-connected model has order from its layout anyway.
    """

    def transformer(encoder, head=HeadConfig()):
        inputs, slots, _ = sequence_backbone(encoder, head, positions=positions)
        outputs = attention_head(slots, inputs["mask"], head)
        return TaskModel(inputs, outputs, task=task_name, name=f"{task_name}_transformer")

    def deepsets(encoder, head=HeadConfig()):
        inputs, slots, _ = sequence_backbone(encoder, head, attention=False, positions=positions)
        if pooling_head is None:
            outputs = pooled_count(slots, inputs["mask"], head, start)
        else:
            outputs = pooling_head(slots, inputs["mask"], head)
        return TaskModel(inputs, outputs, task=task_name, name=f"{task_name}_deepsets")

    def fc(encoder, head=HeadConfig()):
        inputs, slots, _ = sequence_backbone(encoder, head, attention=False)
        outputs = fully_connected_count(slots, inputs["mask"], head, MAX_LEN, start)
        return TaskModel(inputs, outputs, task=task_name, name=f"{task_name}_fc")

    return {
        "transformer": ModelSpec(transformer, ATTENTION, positions, any_length=not positions),
        "deepsets": ModelSpec(deepsets, POOLING, positions, any_length=not positions),
        "fc": ModelSpec(fc, FULLY_CONNECTED, any_length=False),
    }
