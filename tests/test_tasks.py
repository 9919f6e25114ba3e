"""Tasks are self-contained: a task defined here runs end to end; saved models record their task."""

import json
import warnings

import keras
import numpy as np
import pytest
from model_helpers import random_inputs, tiny_model
from run_script import ROOT

from mnist_vit import tasks
from mnist_vit.backbone import sequence_backbone
from mnist_vit.counting import ExactAccuracy
from mnist_vit.errors import ModelFileError
from mnist_vit.experiment import run_experiment
from mnist_vit.hyperparameters import Hyperparameters
from mnist_vit.metrics import by_length
from mnist_vit.model_files import declared_model, load_task_model
from mnist_vit.settings import Settings
from mnist_vit.slots import MaskedSum
from mnist_vit.task_model import TaskModel

TINY_RUN = dict(
    trials=1, search_epochs=1, epochs=1, train_sequences=64, validation_sequences=64, test_sequences=100,
    batch_size=32, seeds=2,
)  # fmt: skip


def different_digits(digits, mask, anchor_digits=None):
    """How many different digits the real slots hold."""
    return np.array([len(set(row[real])) for row, real in zip(digits, mask, strict=True)], "float32")


def build_counter(encoder, head):
    inputs, x, _ = sequence_backbone(encoder, head)
    pooled = MaskedSum(name="pooled")(x, inputs["mask"])
    outputs = keras.layers.Dense(1, name="count")(pooled)
    return TaskModel(inputs, outputs, task="tally", name="tally_counter")


def count_metrics(predictions, targets, lengths):
    exact = np.round(np.asarray(predictions).reshape(-1)) == targets
    return {"exact_accuracy": float(exact.mean()), "exact_accuracy_by_length": by_length(exact, lengths)}


TALLY = tasks.Task(
    name="tally",
    has_anchor=False,
    targets=different_digits,
    models={"attention": tasks.ModelSpec(build_counter, tasks.ATTENTION)},
    loss=lambda: "mse",
    metrics=lambda: [ExactAccuracy()],
    monitor="val_exact_accuracy",
    mode="max",
    test_metrics=count_metrics,
    headline="exact_accuracy",
    presets={"cpu": {}, "large": {}},
)


@pytest.fixture
def tally_task(monkeypatch):
    """The `TALLY` task, registered for one test."""
    # Built-in tasks first: one imported during the test would register only in the test's copy.
    tasks.load_builtin_tasks()
    monkeypatch.setattr(tasks, "_REGISTRY", dict(tasks._REGISTRY))
    return tasks.register_task(TALLY)


@pytest.mark.slow
def test_a_task_defined_outside_the_package_runs_end_to_end(tmp_path, mnist_path, tally_task):
    committed = sorted(p.stat().st_mtime for p in (ROOT / "experiments" / "results").iterdir())
    out = tmp_path / "run"
    settings = Settings(task="tally", **TINY_RUN, data=mnist_path, out=str(out))
    results = run_experiment(settings)
    assert json.loads((out / "results.json").read_text()) == results
    assert results["processes"] == 1 and results["wall_seconds"] > 0
    assert results["task"] == "tally" and results["settings"]["seeds"] == 2
    # A preset without a search margin keeps the best trial.
    assert results["settings"]["search_margin"] == 0.0
    assert results["search"]["chosen_trial"] == results["search"]["best_trials"][0]["trial_id"]
    test = results["models"]["attention"]["test"]
    assert 0.0 <= test["exact_accuracy"] <= 1.0 and "exact_accuracy_std" in test
    assert len(results["models"]["attention"]["per_seed"]) == 2
    assert (
        results["models"]["attention"]["kind"] == "attention"
        and not results["models"]["attention"]["positions"]
    )
    assert {p.name for p in (out / "figures").iterdir()} == {
        "tally_training.png",
        "tally_by_length.png",
    }
    model, task = load_task_model(str(out / "final" / "attention" / "seed_0" / "train" / "final.keras"))
    assert task is tally_task and model.name == "tally_counter"
    # The same settings again reuse the finished work, and its time counts on from the first's.
    again = run_experiment(settings)
    assert again["models"] == results["models"]
    assert again["processes"] == 2 and again["wall_seconds"] >= results["wall_seconds"]
    # The run wrote nothing into the checkout's committed results.
    assert sorted(p.stat().st_mtime for p in (ROOT / "experiments" / "results").iterdir()) == committed


def test_targets_come_from_the_task(tiny_split, tally_task):
    from mnist_vit.sequences import sample_sequences

    sequences = sample_sequences(tiny_split.labels, 50, tally_task, seed=0)
    for row in range(50):
        digits = tiny_split.labels[sequences.indices[row, sequences.mask[row]]]
        assert sequences.targets[row] == len(set(digits))


@pytest.mark.parametrize("task_name, model_name", [("sum", "deepsets"), ("anchor", "fc")])
def test_a_saved_model_records_its_task(tmp_path, task_name, model_name):
    path = tmp_path / "model.keras"
    tiny_model(task_name, model_name).save(path)
    _, task = load_task_model(str(path))
    assert task.name == task_name


def test_a_model_loads_as_the_task_it_declared_or_not_at_all(tmp_path):
    path = tmp_path / "model.keras"
    tiny_model("sum", "fc").save(path)
    declared = declared_model(str(path))
    assert declared == ("sum", {"sequence", "mask"})
    assert load_task_model(str(path), declared)[1].name == "sum"
    with pytest.raises(ModelFileError, match="declared the anchor task, then loaded as the sum task"):
        load_task_model(str(path), ("anchor", declared[1]))


def test_a_model_whose_task_is_not_registered_is_refused(tmp_path, tally_task, monkeypatch):
    path = tmp_path / "counter.keras"
    image = keras.Input((28, 28, 1))
    encoder = keras.Model(image, keras.layers.Flatten()(image))
    build_counter(encoder, Hyperparameters().head).save(path)
    monkeypatch.setattr(tasks, "_REGISTRY", {k: v for k, v in tasks._REGISTRY.items() if k != "tally"})
    with pytest.raises(ModelFileError, match="records no task"):
        load_task_model(str(path))


def test_unknown_hyperparameters_are_named():
    with pytest.raises(ValueError, match="'embed_dims', 'lr'"):
        Hyperparameters.from_dict({"embed_dims": 64, "lr": 1e-3, "num_heads": 2})


def test_hyperparameters_round_trip_through_a_flat_dict():
    values = {"embed_dim": 32, "filters": [8, 16], "num_blocks": 2, "learning_rate": 1e-3, "batch_size": 16}
    hyperparameters = Hyperparameters.from_dict(values)
    assert hyperparameters.encoder.filters == (8, 16) and hyperparameters.head.num_blocks == 2
    assert Hyperparameters.from_dict(hyperparameters.to_dict()) == hyperparameters
    assert {k: hyperparameters.to_dict()[k] for k in values} == values


@pytest.mark.parametrize("task_name", ["sum", "anchor"])
def test_one_image_sequences_predict_without_a_warning(task_name):
    model = tiny_model(task_name, "transformer")
    inputs = random_inputs([1, 1], slots=1, anchor=task_name == "anchor")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.predict(inputs, verbose=0)
    assert [str(warning.message) for warning in caught if "softmax" in str(warning.message)] == []
