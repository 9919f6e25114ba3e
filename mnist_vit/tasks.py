"""What differs between the sum and the anchor task, in one place."""

import dataclasses
from collections.abc import Callable

import keras

from mnist_vit import evaluation
from mnist_vit.metrics import ExactAccuracy


@dataclasses.dataclass(frozen=True)
class Task:
    """A sequence task.

    Attributes:
        name: "sum" or "anchor".
        builders: model name -> builder function with keyword arguments.
        fixed_slot_models: models that need every batch padded to max_len.
        monitor, mode: the validation metric that picks the best checkpoint
            and the tuner's objective, and whether higher is better.
        make_loss, make_metrics: Keras loss and metrics for `compile`.
        test_metrics: `(predictions, targets, lengths) -> dict` (NumPy).
        headline: the main test metric's key in `test_metrics`' dict.
    """

    name: str
    builders: dict
    fixed_slot_models: tuple
    monitor: str
    mode: str
    make_loss: Callable
    make_metrics: Callable
    test_metrics: Callable
    headline: str


def _sum_task():
    from mnist_vit.sum_models import SUM_BUILDERS

    return Task(
        name="sum",
        builders=SUM_BUILDERS,
        fixed_slot_models=("fc",),
        monitor="val_exact_accuracy",
        mode="max",
        make_loss=lambda: keras.losses.Huber(delta=1.0),
        make_metrics=lambda: [ExactAccuracy(), "mse", "mae"],
        test_metrics=evaluation.sum_metrics,
        headline="exact_accuracy",
    )


def _anchor_task():
    from mnist_vit.anchor_models import ANCHOR_BUILDERS

    return Task(
        name="anchor",
        builders=ANCHOR_BUILDERS,
        fixed_slot_models=("fc",),
        monitor="val_auc",
        mode="max",
        make_loss=keras.losses.BinaryCrossentropy,
        make_metrics=lambda: ["accuracy", keras.metrics.AUC(name="auc")],
        test_metrics=evaluation.anchor_metrics,
        headline="accuracy",
    )


def get_task(name):
    """Returns the `Task` called `name`; raises ValueError for an unknown name."""
    factories = {"sum": _sum_task, "anchor": _anchor_task}
    if name not in factories:
        raise ValueError(f"Unknown task {name!r}; expected one of {tuple(factories)}")
    return factories[name]()
