"""How a task is shown to people: wording, README summaries, the original project's numbers, example figure.

`Task` (`mnist_vit.tasks`) holds what training and evaluation need; a task's
`Presentation` holds everything else, registered under the task's name by the
module that defines the task (`register_presentation`). A task without one is
shown with plain defaults (model names as labels, the headline metric as its
summary, no example figure).

This module imports neither Keras nor matplotlib.
"""

import dataclasses
from collections.abc import Callable

from mnist_vit.results import with_std
from mnist_vit.tasks import get_task


@dataclasses.dataclass(frozen=True)
class Examples:
    """A figure of fixed test sequences with the trained attention model's answers (`figures.plot_examples`).

    Attributes:
        title: str. The figure's title.
        caption: `(value, target) -> (str, bool)`: the caption of one
            example with model output `value` and true target `target`, and
            whether the model's answer is right (captions are drawn green
            when right, red when wrong).
        slot_weights: None, or `(model) -> keras.Model` with the same inputs
            as `model`, outputting float `(batch, slots)`: a weight per image
            (e.g. attention), drawn as a bar under it.
    """

    title: str
    caption: Callable
    slot_weights: Callable | None = None


@dataclasses.dataclass(frozen=True)
class Presentation:
    """How a task's models and answers are named and summarised.

    Attributes:
        labels: dict of model name -> its name in tables and figures (the
            model's own name where left out).
        describe_prediction: None or `(value, count) -> str`: the command
            line's answer for one sequence of `count` images and model output
            `value`.
        confidence: None or `(value) -> float` in [0, 1]: how sure an answer
            of model output `value` is (1: certain, 0: a coin toss); the
            command line reports it, and warns about every image that the
            model reads with a confidence under one half on its own.
        describe_results: None or `(test) -> str`: the README's summary of a
            model's test metrics (`summarize`'s dict); None: the headline.
        original: dict of model name -> the original project's numbers.
        examples: None or `Examples`, the figure of test examples.
    """

    labels: dict = dataclasses.field(default_factory=dict)
    describe_prediction: Callable | None = None
    confidence: Callable | None = None
    describe_results: Callable | None = None
    original: dict = dataclasses.field(default_factory=dict)
    examples: Examples | None = None

    def label(self, model):
        """`model`'s name in tables and figures."""
        return self.labels.get(model, model)

    def prediction(self, value, count):
        """The command line's answer for model output `value` on `count` images."""
        if self.describe_prediction is None:
            return f"model output {value:.3f} for {count} images"
        return self.describe_prediction(value, count)

    def results(self, task, test):
        """The README's summary of one model's test metrics `test` of `task`."""
        if self.describe_results is None:
            return f"{task.headline} {with_std(test, task.headline)}"
        return self.describe_results(test)


_PRESENTATIONS = {}


def register_presentation(task_name, presentation):
    """Shows the task `task_name` with `presentation`; returns it."""
    _PRESENTATIONS[task_name] = presentation
    return presentation


def presentation_of(task_name):
    """The `Presentation` of the registered task `task_name` (importing a built-in task's module)."""
    get_task(task_name)
    return _PRESENTATIONS.get(task_name, Presentation())
