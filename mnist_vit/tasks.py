"""A sequence task and everything that differs between tasks, in one object; the task registry.

A task is registered once (`register_task`) by the module that defines it
(`mnist_vit.sum_task`, `mnist_vit.anchor_task`; importing `mnist_vit` loads
both). Everything else (sequences, training, search, command line, figures,
README tables) reads what it needs from the `Task` and never branches on a
task's name, so a new task is one new module. Saved models record their task
(`TaskModel`), so a loaded model says which task it solves.
"""

import dataclasses
from collections.abc import Callable

import keras

from mnist_vit.slots import input_names


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of a task.

    Attributes:
        build: `(encoder, head: HeadConfig) -> TaskModel`, where `encoder` is
            a built image encoder (`mnist_vit.encoder.build_encoder`).
        label: str. The model's name in tables and figures.
        any_length: bool. The model takes sequences of any length (the
            fully-connected baselines take at most `MAX_LEN` images).
    """

    build: Callable
    label: str
    any_length: bool = True


@dataclasses.dataclass(frozen=True)
class Task:
    """A sequence task: its data, models, training objective, search, presets and wording.

    Attributes:
        name: str. The task's name on the command line and in file names.
        description: str. One line for `--help`.
        has_anchor: bool. Each sequence comes with an anchor image (an
            extra model input, see `mnist_vit.slots`).
        targets: `(digits, mask, anchor_digits) -> float32 (n,)`: the target
            of each sequence from its digits (int `(n, slots)`, -1 on
            padding), its mask (bool `(n, slots)`) and the anchors' digits
            (int `(n,)`, or None without an anchor).
        models: dict of model name -> `ModelSpec`; the first is the
            attention model that the search tunes, the others are trained
            with its hyperparameters.
        loss: `() -> keras loss` for `compile`.
        metrics: `() -> list` of Keras metrics for `compile`.
        monitor: str. The validation metric that picks the best checkpoint
            and scores the search's trials.
        mode: str. `"max"` or `"min"` for `monitor`.
        test_metrics: `(predictions, targets, lengths) -> dict`, computed
            with NumPy; has `headline` and `f"{headline}_by_length"`.
        headline: str. The main test metric; also the Keras metric plotted
            beside the loss in the training-curve figure.
        long_lengths: bool. Also report `headline` at lengths 1..50
            (`f"{headline}_by_long_length"`); for models that take any length.
        num_blocks: `(low, high)`. The search's range of self-attention blocks.
        augment: bool. The search's default for training-time augmentation.
        presets: dict of preset name -> run settings (`trials`,
            `search_epochs`, `epochs`, `train_sequences`, `seeds`,
            `batch_size`) for `experiments/run_tuner.py`.
        describe_prediction: `(value, count) -> str`: the command line's
            answer for one sequence of `count` images and model output `value`.
        describe_results: `(test) -> str`: the README's summary of a
            model's test metrics (`summarize`'s dict).
        original: dict of model name -> the original project's numbers.
        example_figure: None or `(model, split, folder) -> path`: a figure of
            test examples drawn with the trained attention model.
    """

    name: str
    description: str
    has_anchor: bool
    targets: Callable
    models: dict
    loss: Callable
    metrics: Callable
    monitor: str
    mode: str
    test_metrics: Callable
    headline: str
    presets: dict
    describe_prediction: Callable
    describe_results: Callable
    long_lengths: bool = False
    num_blocks: tuple = (1, 2)
    augment: bool = True
    original: dict = dataclasses.field(default_factory=dict)
    example_figure: Callable | None = None

    @property
    def searched_model(self):
        """The name of the model the search tunes (the first in `models`)."""
        return next(iter(self.models))

    def input_names(self):
        """The names of the task's model inputs (`mnist_vit.slots.input_names`)."""
        return input_names(self.has_anchor)


@keras.saving.register_keras_serializable(package="mnist_vit")
class TaskModel(keras.Model):
    """A functional model that records the name of the task it solves.

    Built like `keras.Model(inputs, outputs, name=...)` plus `task=`; the
    task name is part of the config, so it survives `.keras` files.

    Args:
        task: str. The `Task`'s name.
    """

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task

    def get_config(self):
        return {**super().get_config(), "task": self.task}


# The `large` preset for bigger machines, the same for every built-in task.
LARGE_PRESET = dict(trials=20, search_epochs=10, epochs=60, train_sequences=50000, seeds=3, batch_size=64)

_REGISTRY = {}


def register_task(task):
    """Adds `task` to the registry (replacing a task of the same name); returns it."""
    _REGISTRY[task.name] = task
    return task


def task_names():
    """The names of the registered tasks, in registration order."""
    return tuple(_REGISTRY)


def get_task(name):
    """The registered `Task` called `name`; raises ValueError naming the known ones."""
    if name not in _REGISTRY:
        raise ValueError(f"Unknown task {name!r}; expected one of {task_names()}")
    return _REGISTRY[name]
