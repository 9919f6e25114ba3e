"""Early stopping (`Settings.patience`): a run ends once validation stalls, and its best epoch is tested."""

import json

import keras
import numpy as np
import pytest
from conftest import digit_split
from model_helpers import TINY

from mnist_vit.callbacks import PatienceStop, patience_spent, read_history
from mnist_vit.tasks import get_task
from mnist_vit.training import FINAL_MODEL, train_sequence_model


@pytest.mark.parametrize(
    "values, mode, patience, spent",
    [
        ([0.5, 0.7, 0.6, 0.7], "max", 3, False),  # the tie at the end is no improvement, but only 2 epochs
        ([0.5, 0.7, 0.6, 0.7, 0.65], "max", 3, True),  # three epochs since the first 0.7
        ([0.5, 0.6, 0.7, 0.8], "max", 1, False),  # better every epoch
        ([2.0, 1.0, 1.5], "min", 1, True),  # a loss: lower is better
        ([2.0, 1.0, 1.5], "max", 2, True),  # read as a score: two epochs after the best, 2.0
        ([2.0, 1.0, 1.5], "max", 3, False),
        ([], "max", 1, False),
    ],
)
def test_patience_counts_the_epochs_since_the_first_best(values, mode, patience, spent):
    assert patience_spent(values, mode, patience) is spent


def stop_flags(callback, values):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.stop_training = False
    callback.set_model(model)
    flags = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"val_accuracy": value, "loss": 1.0})
        flags.append(model.stop_training)
    return flags


def test_a_resumed_run_stops_at_the_epoch_an_uninterrupted_one_stops_at():
    values = [0.5, 0.7, 0.6, 0.7, 0.65, 0.8]
    whole = stop_flags(PatienceStop("val_accuracy", "max", 3), values)
    assert whole == [False, False, False, False, True, True]
    resumed = stop_flags(PatienceStop("val_accuracy", "max", 3, earlier=values[:3]), values[3:])
    assert resumed == whole[3:]  # a fresh count would wait three more epochs
    with pytest.raises(KeyError, match="PatienceStop monitors 'val_auc'"):
        stop_flags(PatienceStop("val_auc", "max", 3), values)
    with pytest.raises(ValueError, match="patience must be at least 1"):
        PatienceStop("val_accuracy", "max", 0)


@pytest.mark.slow  # trains a model
def test_a_run_with_patience_ends_when_validation_stalls_and_returns_its_best_epoch(tmp_path):
    task, run_dir, epochs = get_task("sum"), tmp_path / "run", 12
    splits = {"train": digit_split(400, seed=0), "validation": digit_split(200, seed=1)}
    model, history = train_sequence_model(
        task, "deepsets", TINY, splits, str(run_dir), epochs=epochs, train_sequences=256,
        validation_sequences=64, lengths=(1, 2), pool=4, patience=2, verbose=0,
    )  # fmt: skip
    scores = history[task.monitor]
    # Four training sequences teach little: validation stalls long before the schedule's end.
    trained = next(n for n in range(1, epochs + 1) if patience_spent(scores[:n], task.mode, 2))
    assert len(scores) == trained < epochs
    assert len(read_history(str(run_dir))["loss"]) == trained
    best_epoch = json.loads((run_dir / "best.keras.best.json").read_text())["epoch"]
    assert best_epoch == trained - 2  # the last two epochs did not beat it

    def weights(saved):
        return [keras.ops.convert_to_numpy(w) for w in saved.weights]

    best = weights(keras.saving.load_model(run_dir / "best.keras"))
    for tested in (model, keras.saving.load_model(run_dir / FINAL_MODEL)):
        assert all(np.array_equal(a, b) for a, b in zip(weights(tested), best, strict=True))
    assert not (run_dir / "backup").exists()  # the run is finished: nothing to resume


@pytest.mark.slow  # trains a model
def test_a_run_killed_after_its_stopping_epoch_trains_no_further_epoch_when_resumed(tmp_path, monkeypatch):
    from mnist_vit.callbacks import RunBackup

    task, run_dir = get_task("sum"), tmp_path / "run"
    splits = {"train": digit_split(400, seed=0), "validation": digit_split(200, seed=1)}

    def train():
        return train_sequence_model(
            task, "deepsets", TINY, splits, str(run_dir), epochs=12, train_sequences=256,
            validation_sequences=64, lengths=(1, 2), pool=4, patience=2, verbose=0,
        )  # fmt: skip

    with monkeypatch.context() as patched:  # killed after the last backup, before training ended
        patched.setattr(RunBackup, "on_train_end", lambda self, logs=None: None)
        _, stopped = train()
    assert (run_dir / "backup").exists() and len(stopped["loss"]) < 12
    model, resumed = train()
    assert resumed == stopped  # no epoch trained after the one that spent the patience
    assert not (run_dir / "backup").exists()
    best = keras.saving.load_model(run_dir / "best.keras")
    for a, b in zip(model.weights, best.weights, strict=True):
        assert np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
