"""The callbacks of one training run: resume after a crash, best checkpoint, time, logs."""

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
    """Adds `elapsed_seconds` (since this process started training) to each epoch's logs.

    Placed before the loggers, it puts the time into `history.csv` and
    TensorBoard, so "how long until validation accuracy reached x" can be
    read off a run.
    """

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["elapsed_seconds"] = time.perf_counter() - self.start


def make_callbacks(run_dir, monitor, mode):
    """Callbacks for one training run, all writing under `run_dir`.

    - `BackupAndRestore` (`run_dir/backup`): a run killed mid-epoch and
      started again with the same command resumes after its last completed
      epoch (same weights, optimizer state and schedule) and ends with the
      same number of epochs; the backup is removed when training finishes.
    - `elapsed_seconds` in the epoch logs (`ElapsedTime`).
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
    callbacks = [
        keras.callbacks.BackupAndRestore(backup_dir),
        ElapsedTime(),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=resuming),
        BestModelCheckpoint(best_path, monitor=monitor, mode=mode, resume=resuming),
        keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq="epoch"),
    ]
    return callbacks, best_path
