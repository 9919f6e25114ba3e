"""Safe file handling: writes replace a file whole or not at all; reads start only on a regular file."""

import json
import os
import stat
import tempfile

import numpy as np


def atomic_write(path, suffix, write):
    """Calls `write(tmp_path)` on a temporary file beside `path`, then renames it to `path`.

    A crash never leaves a truncated file: readers see the old file or the
    whole new one. A `path` that exists but is not a regular file (a
    folder, a device, a pipe) raises `OSError` and is left as it is.
    `suffix` is the temporary file's ending (Keras wants `.keras` for
    models).
    """
    path = os.fspath(path)
    if os.path.lexists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"refusing to replace {path}: it is not a regular file")
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


def check_readable_file(path, what, error):
    """Raises `error` (an exception class) naming `what` and `path` unless `path` is a readable regular file.

    Refuses, before anything opens it, a missing path, a folder, and anything
    that is not a regular file (a named pipe would block a reader forever, a
    device could be endless).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise error(f"{what} {path} does not exist")
    if os.path.isdir(path):
        raise error(f"{what} {path} is a folder, not a file")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise error(f"{what} {path} is not a regular file (a pipe, device or socket)")
    if not os.access(path, os.R_OK):
        raise error(f"{what} {path} cannot be read (permission denied)")
