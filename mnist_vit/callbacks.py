"""The callbacks of one training run: resume after a crash, best checkpoint, time, logs."""

import csv
import json
import math
import os
import time

import keras

from mnist_vit.safe_files import atomic_write_json, save_model_atomically


class BestModelCheckpoint(keras.callbacks.Callback):
    """Keeps the best model by a validation metric in one `.keras` file, saved atomically.

    Beside the model, `<path>.best.json` records the best epoch and value. When
    `resume` is true (training continues from a backup after a crash), the
    best value is read back from it, so a worse epoch after the resume does
    not replace the best model.

    Args:
        path: str. The `.keras` file.
        monitor: str. Metric name in the epoch logs, e.g. `"val_auc"`.
        mode: str. `"max"` or `"min"`.
        resume: bool. Read the best value of the interrupted run.
    """

    def __init__(self, path, monitor, mode, resume=False):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.path = path
        self.record_path = f"{path}.best.json"
        self.monitor = monitor
        self.mode = mode
        self.best = -math.inf if mode == "max" else math.inf
        if resume and os.path.isfile(self.record_path):
            with open(self.record_path) as f:
                self.best = json.load(f)["value"]

    def _improved(self, value):
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"BestModelCheckpoint monitors {self.monitor!r}, not in logs {sorted(logs or {})}")
        if self._improved(float(value)):
            self.best = float(value)
            save_model_atomically(self.model, self.path)
            atomic_write_json(
                self.record_path, {"epoch": epoch + 1, "monitor": self.monitor, "value": self.best}
            )


class ElapsedTime(keras.callbacks.Callback):
    """Adds `elapsed_seconds` (seconds of training so far) to each epoch's logs.

    Placed before the loggers, it puts the time into `history.csv` and
    TensorBoard, so "how long until validation accuracy reached x" can be
    read off a run. A resumed run passes the `elapsed_seconds` of its last
    completed epoch as `offset`, so the count goes on across processes (the
    unfinished epoch of a killed process is trained again and counted once).

    Args:
        offset: float. Seconds of training before this process.
    """

    def __init__(self, offset=0.0):
        super().__init__()
        self.offset = offset

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["elapsed_seconds"] = self.offset + time.perf_counter() - self.start


def read_history(run_dir):
    """Every completed epoch's logs of a run, resumed parts included, from `run_dir/history.csv`.

    Returns:
        `{name: [float per epoch]}`, the shape of `History.history` (NaN
        where an epoch lacks a metric); empty when no epoch completed.
    """
    path = os.path.join(run_dir, "history.csv")
    if not os.path.isfile(path):
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    names = [name for name in (rows[0] if rows else {}) if name != "epoch"]
    return {name: [_number(row[name]) for row in rows] for name in names}


def _number(text):
    """A CSV cell as a float; `CSVLogger`'s `NA` (a metric missing from an epoch) as NaN."""
    return math.nan if text in ("", "NA") else float(text)


def make_callbacks(run_dir, monitor, mode):
    """Callbacks for one training run, all writing under `run_dir`.

    - `BackupAndRestore` (`run_dir/backup`): a run killed mid-epoch and
      started again with the same command resumes after its last completed
      epoch (same weights, optimizer state and schedule) and ends with the
      same number of epochs; the backup is removed when training finishes.
    - `elapsed_seconds` in the epoch logs (`ElapsedTime`), counted on from
      the last completed epoch when resuming.
    - A CSV log (`run_dir/history.csv`, appended to on a resume).
    - The best model by `monitor`, saved atomically (`run_dir/best.keras`).
    - TensorBoard logs (`run_dir/logs`).

    Returns:
        `(callbacks, best_model_path)`.
    """
    os.makedirs(run_dir, exist_ok=True)
    backup_dir = os.path.join(run_dir, "backup")
    resuming = os.path.isdir(backup_dir)
    best_path = os.path.join(run_dir, "best.keras")
    elapsed = read_history(run_dir).get("elapsed_seconds") if resuming else None
    callbacks = [
        keras.callbacks.BackupAndRestore(backup_dir),
        ElapsedTime(offset=elapsed[-1] if elapsed else 0.0),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=resuming),
        BestModelCheckpoint(best_path, monitor=monitor, mode=mode, resume=resuming),
        keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq="epoch"),
    ]
    return callbacks, best_path
