"""Run folders that never lie and never lose work: settings, one process at a time, damaged files, backups."""

import dataclasses
import json
import os
import shutil
import signal
import time

import keras
import numpy as np
import pytest
from run_script import TINY_ANCHOR, TINY_ANCHOR_RUN, command_options, run_tuner, start_tuner

from mnist_vit.callbacks import RunBackup, completed_epochs, make_callbacks
from mnist_vit.errors import RunFolderError, TrainingDiverged
from mnist_vit.experiment import RESUME_HINT, run_experiment, search_files_read_back
from mnist_vit.run_folder import RunFolder
from mnist_vit.settings import Settings


class Stop(Exception):
    """Stands in for a kill: `fit` ends without `on_train_end`, so the backup stays."""


class StopAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Stop


def tiny_regression(seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(0.3)]
    layers.append(keras.layers.Dense(1))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="mse")
    return model


def data(bad=False):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    if bad:
        x[3, 1] = np.nan
    return x, x.sum(axis=1, keepdims=True)


def fit(run_dir, epochs=3, stop_at=None, model=None):
    """Trains `tiny_regression` with the run's callbacks; stops (as a kill would) at epoch `stop_at`."""
    model = model or tiny_regression()
    callbacks, _ = make_callbacks(str(run_dir), monitor="val_loss", mode="min")
    if stop_at is not None:
        callbacks.append(StopAtEpoch(stop_at))
    x, y = data()
    try:
        model.fit(x, y, validation_data=(x, y), epochs=epochs, batch_size=16, shuffle=False,
                  callbacks=callbacks, verbose=0)  # fmt: skip
    except Stop:
        pass
    return model


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    whole = fit(tmp_path / "whole")
    fit(tmp_path / "resumed", stop_at=2)
    assert completed_epochs(str(tmp_path / "resumed")) == 2
    resumed = fit(tmp_path / "resumed")
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    history = (tmp_path / "resumed" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 3 and not (tmp_path / "resumed" / "backup").exists()


def test_a_kill_while_the_backup_is_written_keeps_the_last_whole_backup(tmp_path, monkeypatch):
    fit(tmp_path, stop_at=2)
    written = []

    def killed_mid_write(self, filepath, **kwargs):  # half a file, then the process is gone
        with open(filepath, "wb") as f:
            f.write(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
        written.append(filepath)
        raise Stop

    monkeypatch.setattr(keras.Model, "save_weights", killed_mid_write)
    fit(tmp_path)
    monkeypatch.undo()
    assert written and not any(os.path.exists(path) for path in written)  # the half-written file is gone
    assert completed_epochs(str(tmp_path)) == 2
    state = json.loads((tmp_path / "backup" / "state.json").read_text())
    assert {key: state[key] for key in ("epoch", "weights")} == {"epoch": 2, "weights": "epoch_2.weights.h5"}
    assert sorted(os.listdir(tmp_path / "backup")) == ["epoch_2.weights.h5", "state.json"]
    fit(tmp_path)  # and it resumes
    assert not (tmp_path / "backup").exists()


@pytest.mark.parametrize(
    "name, damage",
    [
        ("backup/state.json", b'{"epoch": 2, "wei'),
        ("backup/state.json", b'{"epoch": "two", "weights": "epoch_2.weights.h5"}'),
        ("backup/state.json", b'{"epoch": 2, "weights": "epoch_2.weights.h5", "seeds": [[1]]}'),
        ("backup/epoch_2.weights.h5", b"\x89HDF\r\n\x1a\n garbage"),
        ("best.keras.best.json", b"\x00\x01garbage"),
        ("history.csv", b"epoch,loss\n0,1.0\n1,not a number\n"),
    ],
)
def test_a_damaged_file_of_an_interrupted_run_is_named_with_the_way_out(tmp_path, name, damage):
    fit(tmp_path, stop_at=2)
    (tmp_path / name).write_bytes(damage)
    with pytest.raises(RunFolderError) as error:
        fit(tmp_path)
    message = str(error.value)
    assert f"{tmp_path / name} is damaged" in message
    assert f"delete {tmp_path} to train this model from its first epoch" in message


def test_a_loss_that_is_not_finite_stops_training_with_one_error(tmp_path):
    model = tiny_regression()
    callbacks, _ = make_callbacks(str(tmp_path), monitor="val_loss", mode="min")
    x, y = data(bad=True)
    with pytest.raises(TrainingDiverged, match=r"loss is nan at batch \d+; lower the learning rate"):
        model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=16, callbacks=callbacks, verbose=0)
    assert not (tmp_path / "backup").exists()


def test_a_backup_never_replaces_a_special_file(tmp_path):
    backup = RunBackup(str(tmp_path / "backup"), "start over")
    backup.set_model(tiny_regression())
    os.makedirs(tmp_path / "backup")
    os.mkfifo(tmp_path / "backup" / "epoch_1.weights.h5")
    backup._current_epoch = 1
    with pytest.raises(OSError, match="not a regular file"):
        backup._save_model()
    assert not (tmp_path / "backup" / "state.json").exists()


# The folder ---------------------------------------------------------------------------------------------

SETTINGS = {"task": "sum", "epochs": 19, "test_sequences": 10000, "seed": 0}


def test_a_folder_records_its_settings_and_refuses_others_naming_them(tmp_path):
    with RunFolder(str(tmp_path), SETTINGS):
        pass
    assert json.loads((tmp_path / "run.json").read_text()) == {"settings": SETTINGS}
    with RunFolder(str(tmp_path), dict(SETTINGS)):  # the same settings resume
        pass
    other = {**SETTINGS, "epochs": 2, "test_sequences": 200}
    with pytest.raises(RunFolderError) as error:
        with RunFolder(str(tmp_path), other):
            pass
    assert str(error.value) == (
        f"run folder {tmp_path} was made with other settings (epochs 19 -> 2, test_sequences 10000 -> 200); "
        "use a new --out, or --start-over to delete this folder's runs and start again"
    )


def test_start_over_removes_the_runs_and_only_them(tmp_path):
    with RunFolder(str(tmp_path), SETTINGS):
        pass
    for name in ("final/a/test.json", "search_random/oracle.json", "notes/mine.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    other = {**SETTINGS, "epochs": 2}
    with RunFolder(str(tmp_path), other, start_over=True, entries=("final", "search_*")):
        pass
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["notes", "run.json"]
    assert json.loads((tmp_path / "run.json").read_text()) == {"settings": other}


def test_a_worker_checks_the_settings_but_does_not_record_them(tmp_path):
    with RunFolder(str(tmp_path), SETTINGS, role="tuner0"):
        pass
    assert not (tmp_path / "run.json").exists()
    with RunFolder(str(tmp_path), SETTINGS):
        with RunFolder(str(tmp_path), SETTINGS, role="tuner0"):  # the chief and a worker share a folder
            pass


def test_a_folder_in_use_names_the_process_that_holds_it(tmp_path):
    with RunFolder(str(tmp_path), SETTINGS):
        with pytest.raises(RunFolderError, match=f"in use by process {os.getpid()} .*choose another --out"):
            with RunFolder(str(tmp_path), SETTINGS):
                pass
    with RunFolder(str(tmp_path), SETTINGS):  # released at the end of the block
        pass


def test_a_damaged_settings_record_is_named(tmp_path):
    (tmp_path / "run.json").write_text('{"settings": ')
    with pytest.raises(RunFolderError, match="run.json is damaged .*--start-over"):
        with RunFolder(str(tmp_path), SETTINGS):
            pass


# The main job's folder ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, mnist_path):
    """A finished tiny anchor run: `(folder, settings)`; tests copy the folder before changing it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    settings = Settings(**TINY_ANCHOR, data=mnist_path, out=str(out))
    assert run_experiment(settings)["task"] == "anchor"
    return out, settings


def copy_of(finished_run, tmp_path):
    out, settings = finished_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    return copy, dataclasses.replace(settings, out=str(copy))


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_finished_run_draws_its_tasks_figures(finished_run):
    out, _ = finished_run
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "anchor_by_length.png", "anchor_examples.png", "anchor_training.png",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "change, named",
    [({"epochs": 3}, "epochs 2 -> 3"), ({"test_sequences": 40}, "test_sequences 50 -> 40")],
)
def test_a_rerun_with_other_settings_is_refused_and_writes_nothing(finished_run, tmp_path, change, named):
    out, settings = copy_of(finished_run, tmp_path)
    before = snapshot(out)
    with pytest.raises(RunFolderError, match=f"{named}\\); use a new --out, or --start-over"):
        run_experiment(dataclasses.replace(settings, **change))
    assert snapshot(out) == before


@pytest.mark.slow
def test_start_over_recomputes_everything_with_the_new_settings(finished_run, tmp_path):
    out, settings = copy_of(finished_run, tmp_path)
    results = run_experiment(dataclasses.replace(settings, epochs=3, start_over=True))
    assert json.loads((out / "results.json").read_text()) == results
    assert results["settings"]["epochs"] == 3 and results["processes"] == 1
    for name in ("transformer", "fc"):
        history = (out / "final" / name / "seed_0" / "train" / "history.csv").read_text().splitlines()
        assert len(history) == 1 + 3, name
        assert results["models"][name]["hyperparameters"]["epochs"] == 3


DAMAGED = {
    "test.json": ("final/fc/seed_0/test.json", b'{"accuracy": 0.5, "au', "final/fc/seed_0 to train and test"),
    "trial.json": ("search_random/trial_0/trial.json", b"\x00garbage", "search_random to search again"),
    "oracle.json": ("search_random/oracle.json", b"", "search_random to search again"),
    "tuner0.json": ("search_random/tuner0.json", b"[1, 2", "search_random to search again"),
    "history.csv": ("final/transformer/seed_0/train/history.csv", b"epoch,loss\n0,x\n", "transformer/seed_0"),
    "final.keras": ("final/transformer/seed_0/train/final.keras", b"PK\x03\x04cut", "transformer/seed_0 to"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_file_of_a_run_folder_is_named_with_the_way_out(finished_run, tmp_path, case):
    out, settings = copy_of(finished_run, tmp_path)
    name, damage, remedy = DAMAGED[case]
    (out / name).write_bytes(damage)
    with pytest.raises(RunFolderError) as error:
        run_experiment(settings)
    message = str(error.value)
    assert message.startswith(f"{out / name} is damaged") and f"delete {out}/" in message, message
    assert remedy in message


def test_a_search_worker_reads_back_only_its_own_file(tmp_path, monkeypatch):
    # The chief and the other workers rewrite the oracle's and the trials' files while a worker starts:
    # one caught half-written (empty here) must not stop the worker as damaged.
    folder = tmp_path / "search_random"
    names = ("oracle.json", "trial_0/trial.json", "worker0.json", "worker1.json")
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker1")
    assert search_files_read_back(str(folder)) == [str(folder / "worker1.json")]
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker2")  # a new worker has no file yet
    assert search_files_read_back(str(folder)) == []
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert search_files_read_back(str(folder)) == sorted(str(folder / name) for name in names)


@pytest.mark.slow
def test_a_second_run_on_a_folder_in_use_gets_one_line_naming_the_holder(tmp_path, mnist_path):
    out = tmp_path / "run"
    with RunFolder(str(out), {}):
        done = run_tuner([*TINY_ANCHOR_RUN, "--data", mnist_path, "--out", str(out)])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: run folder {out} is in use by process {os.getpid()} (a run with the same --out); "
        "wait for it to end or choose another --out"
    ]


def timeless(figures):
    """A seed's test figures less its training times."""
    return {k: v for k, v in figures.items() if k not in ("train_seconds", "seconds_to_validation")}


def final_training_lines(process, log):
    """Yields the lines of a run's output from its first final training run on."""
    started = False
    while process.poll() is None:
        for line in log.read_text().splitlines():
            started = started or line.startswith("training transformer, seed 0")
            if started:
                yield line
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)  # handled, and not
def test_a_run_stopped_by_a_signal_resumes_to_the_same_figures(finished_run, tmp_path, mnist_path, stop):
    out, settings = finished_run
    whole = json.loads((out / "results.json").read_text())
    resumed_out = tmp_path / "run"
    settings = dataclasses.replace(settings, out=str(resumed_out))
    argv = command_options(**dataclasses.asdict(settings))
    log = tmp_path / "log"
    process = start_tuner(argv, log)
    try:
        for line in final_training_lines(process, log):
            if line.startswith("Epoch 2/2"):  # epoch 1 of the first final model is complete
                process.send_signal(stop)
                break
        process.wait(timeout=120)
    finally:
        process.kill()
    assert process.returncode in (-stop, 128 + stop), log.read_text()[-2000:]
    assert not (resumed_out / "results.json").exists()
    if stop != signal.SIGKILL:
        assert log.read_text().rstrip().splitlines()[-1] == RESUME_HINT
    resumed = run_experiment(settings)
    assert resumed["processes"] == 2
    for name, model in whole["models"].items():
        assert timeless(resumed["models"][name]["per_seed"][0]) == timeless(model["per_seed"][0]), name
