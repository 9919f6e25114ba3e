"""How tasks are shown: the examples figure's choice of rows, and the wording a task without its own gets."""

import numpy as np

from mnist_vit.figures import example_rows
from mnist_vit.presentation import Presentation, presentation_of
from mnist_vit.tasks import get_task


def test_a_yes_no_task_shows_as_many_of_each_answer_as_it_can():
    targets = np.array([1, 1, 1, 1, 0, 1, 0, 1, 1, 1])
    rows = example_rows(targets, 6)
    assert list(rows) == [0, 1, 2, 3, 4, 6]  # the two 0s and the first four 1s, in order
    assert list(example_rows(np.ones(4), 6)) == [0, 1, 2, 3]  # fewer rows than asked: all of them


def test_a_counting_task_shows_different_answers_first():
    targets = np.array([12.0, 12.0, 7.0, 30.0, 7.0, 5.0, 9.0, 12.0, 3.0])
    rows = example_rows(targets, 5)
    assert list(rows) == [0, 2, 3, 5, 6]
    assert len(set(targets[rows])) == 5


def test_a_task_without_a_presentation_is_shown_with_its_names_and_headline():
    shown = Presentation()
    assert shown.label("attention") == "attention"
    assert shown.prediction(2.25, 3) == "model output 2.250 for 3 images"
    test = {"exact_accuracy": 0.5, "exact_accuracy_std": 0.125}
    assert shown.results(get_task("sum"), test) == "exact_accuracy 0.5000 ± 0.1250"
    assert shown.examples is None


def test_every_builtin_task_labels_each_of_its_models():
    for name in ("sum", "anchor"):
        shown = presentation_of(name)
        assert set(shown.labels) == set(get_task(name).models)
        assert shown.examples is not None and shown.describe_results is not None
