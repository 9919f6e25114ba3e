"""Crash-safe model files: atomic saves and a best-model checkpoint that survives a resume."""

import json
import math
import os

import keras

from mnist_vit.results import atomic_write, atomic_write_json


def save_model_atomically(model, path):
    """Saves `model` to the `.keras` file `path` via a temporary file and a rename.

    A crash during the save leaves the previous file (or none), never a
    truncated one.
    """
    atomic_write(path, ".keras", model.save)


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
