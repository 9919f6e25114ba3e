"""Crash-safe writes: a file is replaced whole or not at all."""

import json
import os
import tempfile

import numpy as np


def atomic_write(path, suffix, write):
    """Calls `write(tmp_path)` on a temporary file beside `path`, then renames it to `path`.

    A crash never leaves a truncated file: readers see the old file or the
    whole new one. `suffix` is the temporary file's ending (Keras wants
    `.keras` for models).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_json(path, payload):
    """Writes `payload` as JSON to `path` atomically (see `atomic_write`)."""

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(payload, f, indent=2, sort_keys=False, default=_to_builtin)
            f.write("\n")

    atomic_write(path, ".json", write)


def save_model_atomically(model, path):
    """Saves `model` to the `.keras` file `path` atomically (see `atomic_write`)."""
    atomic_write(path, ".keras", model.save)


def _to_builtin(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Cannot write {type(value).__name__} to JSON")
