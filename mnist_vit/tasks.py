"""A sequence task and everything that differs between tasks, in one object; the task registry.

A task is registered once (`register_task`) by the module that defines it.
The built-in tasks are the package's modules named `<task>_task`
(`mnist_vit.sum_task`, `mnist_vit.anchor_task`): `task_names` lists them
without importing them (so the command line checks its arguments before
Keras is imported), and `get_task` imports a task's module the first time it
is asked for. Everything else (sequences, training, search, command line,
figures, README tables) reads what it needs from the `Task` and never
branches on a task's name, so a new task is one new module, which may also
register how the task is shown (`mnist_vit.presentation`). Saved models
record their task (`mnist_vit.task_model.TaskModel`), so a loaded model says
which task it solves.

This module does not import Keras.
"""

import dataclasses
import importlib
import os
import pkgutil
from collections.abc import Callable

from mnist_vit.errors import UsageError

ANCHOR_INPUT = "anchor"  # the name of the anchor image's model input, in tasks that have one
# What a model does with the slots, for the tables that compare them (`ModelSpec.kind`).
ATTENTION, POOLING, FULLY_CONNECTED = "attention", "pooling", "fully connected"


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of a task.

    Attributes:
        build: `(encoder, head: HeadConfig) -> TaskModel`, where `encoder` is
            a built image encoder (`mnist_vit.encoder.build_encoder`).
        kind: str. `ATTENTION` (self- or cross-attention between the
            images), `POOLING` (each image on its own, then pooled: Deep Sets)
            or `FULLY_CONNECTED` (the slots flattened in order).
        positions: bool. The model adds a learned position embedding to
            each slot (`mnist_vit.backbone.sequence_backbone`), so order
            reaches it; the results file says so.
        any_length: bool. The model takes sequences of any length (the
            fully-connected baselines and models with learned positions
            take at most `MAX_LEN` images).
    """

    build: Callable
    kind: str
    positions: bool = False
    any_length: bool = True


@dataclasses.dataclass(frozen=True)
class Task:
    """A sequence task: its data, models, training objective, search and presets.

    Attributes:
        name: str. The task's name on the command line and in file names.
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
        monitor: str. The validation metric that scores the search's
            trials and picks the best epoch's checkpoint (`best.keras`).
        mode: str. `"max"` or `"min"` for `monitor`.
        test_metrics: `(predictions, targets, lengths) -> dict`, computed
            with NumPy; has `headline` and `f"{headline}_by_length"`.
        headline: str. The main test metric; also the Keras metric plotted
            beside the loss in the training-curve figure.
        key_metrics: tuple of str. Test metrics beside `headline` that a run
            compares with the reference
            (`mnist_vit.experiment.compare_with_reference`).
        long_lengths: bool. Also report `headline` at lengths 1..100
            (`f"{headline}_by_long_length"`); for models that take any length.
            With an anchor, its digit is absent from half of those sequences
            (`mnist_vit.training.long_length_accuracy`).
        digit_probe: bool. Also report how well each model's frozen encoder
            reads one digit (`digit_probe_accuracy`, `mnist_vit.digit_probe`);
            for a task whose answer needs every digit read right, where its
            powers bound the accuracy by length.
        num_blocks: `(low, high)`. The search's range of self-attention blocks.
        encoder: dict of `EncoderConfig` field -> the task's value, for the
            fields where the task differs from `EncoderConfig`'s defaults:
            the search's default where the search tunes the field
            (`augment`), the value every model of the task uses where it does
            not (`dtype_policy`); see `mnist_vit.search`.
        presets: dict of preset name -> run settings (`trials`,
            `search_epochs`, `search_margin`, `epochs`, `train_sequences`,
            `seeds`, `batch_size`) for the main job (`Settings.with_preset`);
            one left out is the default (`search_margin` 0, `batch_size`
            `TrainingConfig`'s).
    """

    name: str
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
    key_metrics: tuple = ()
    long_lengths: bool = False
    digit_probe: bool = False
    num_blocks: tuple = (1, 2)
    encoder: dict = dataclasses.field(default_factory=dict)

    @property
    def searched_model(self):
        """The name of the model the search tunes (the first in `models`)."""
        return next(iter(self.models))

    def check_model(self, name):
        """Returns `name` if it is one of the task's models; raises `UsageError` naming them if not."""
        if name not in self.models:
            expected = ", ".join(self.models)
            raise UsageError(
                f"--model {name!r} is not a model of task {self.name}; expected one of {expected}"
            )
        return name

    def input_names(self):
        """The names of the task's model inputs (`mnist_vit.slots.sequence_inputs`)."""
        return {"sequence", "mask", ANCHOR_INPUT} if self.has_anchor else {"sequence", "mask"}


# The `large` preset for bigger machines, the same for every built-in task.
LARGE_PRESET = dict(trials=20, search_epochs=10, epochs=60, train_sequences=50000, seeds=3)

BUILTIN_SUFFIX = "_task"  # a built-in task `x` is defined in `mnist_vit/x_task.py`

_REGISTRY = {}


def register_task(task):
    """Adds `task` to the registry (replacing a task of the same name); returns it."""
    _REGISTRY[task.name] = task
    return task


def builtin_task_modules():
    """dict of built-in task name -> the module that defines it, in alphabetical order; imports none."""
    return {
        module.name.removesuffix(BUILTIN_SUFFIX): f"mnist_vit.{module.name}"
        for module in pkgutil.iter_modules([os.path.dirname(__file__)])
        if module.name.endswith(BUILTIN_SUFFIX)
    }


def task_names():
    """The built-in tasks' names, then those of other registered tasks; imports nothing."""
    return tuple(dict.fromkeys([*builtin_task_modules(), *_REGISTRY]))


def load_builtin_tasks():
    """Imports every built-in task's module.

    That registers the tasks and every custom Keras object their models use,
    so that `keras.saving.load_model(path)` loads any saved mnist_vit model.
    """
    for name in builtin_task_modules():
        get_task(name)


def get_task(name):
    """The registered `Task` called `name` (importing a built-in task's module); ValueError if unknown."""
    modules = builtin_task_modules()
    if name not in _REGISTRY and name in modules:
        importlib.import_module(modules[name])
    if name not in _REGISTRY:
        raise ValueError(f"Unknown task {name!r}; expected one of {task_names()}")
    return _REGISTRY[name]
