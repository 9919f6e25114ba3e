"""A run folder that knows the settings it was made with, is used by one process at a time, and
whose files, read back on a resume, are checked.

A job writes everything under one folder (`--out`) and resumes from what it
finds there. Three rules keep a resume honest:

- The folder records the settings that decide its results (`run.json`); a
  rerun with other settings is refused, naming them, so a results file never
  mixes figures of two configurations. `--start-over` removes the folder's
  runs and starts again.
- One process at a time holds the folder (a lock file per role, so that the
  workers of a distributed search share it with their chief).
- Every file read back (`read_json`, `read_csv_rows`, `read_model`) either parses or raises
  one `RunFolderError` naming the file and what to do.
"""

import csv
import fcntl
import hashlib
import json
import os
import shutil

from mnist_vit.errors import RunFolderError
from mnist_vit.safe_files import atomic_write_json

SETTINGS_FILE = "run.json"
START_OVER = "use a new --out, or --start-over to delete this folder's runs and start again"


def damaged(path, remedy):
    """The `RunFolderError` for a run file that cannot be read back, naming it and the way out."""
    return RunFolderError(f"{path} is damaged (cannot be read back); {remedy}")


def read_json(path, remedy):
    """The JSON object (a dict) in a run file; `RunFolderError` naming `path` and `remedy` otherwise."""
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError) as error:
        raise damaged(path, remedy) from error
    if not isinstance(value, dict):
        raise damaged(path, remedy)
    return value


def read_csv_rows(path, remedy):
    """The rows of a run's CSV file as dicts of floats (`NA` or empty as NaN); `RunFolderError` otherwise."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        return [{name: _number(text) for name, text in row.items()} for row in rows]
    except (OSError, ValueError, TypeError, csv.Error) as error:
        raise damaged(path, remedy) from error


def read_model(path, remedy):
    """Loads a `.keras` model the run saved; `RunFolderError` naming `path` and `remedy` if it cannot."""
    import keras

    from mnist_vit.tasks import load_builtin_tasks

    load_builtin_tasks()  # registers the custom layers a saved model may use
    try:
        return keras.saving.load_model(path)
    except Exception as error:  # Keras raises many types for a damaged file
        raise damaged(path, remedy) from error


def _number(text):
    return float("nan") if text in ("", "NA") else float(text)


def settings_differences(recorded, settings):
    """`"key old -> new"` for each key whose value differs between two settings dicts, joined by commas;
    "" where they agree."""
    return ", ".join(
        f"{key} {recorded.get(key)!r} -> {settings.get(key)!r}"
        for key in sorted(set(recorded) | set(settings))
        if recorded.get(key) != settings.get(key)
    )


def data_fingerprint(splits):
    """A short SHA-256 of every split's images and labels: the same data, whatever file it came from."""
    digest = hashlib.sha256()
    for name in sorted(splits):
        digest.update(name.encode())
        digest.update(splits[name].images.tobytes())
        digest.update(splits[name].labels.tobytes())
    return digest.hexdigest()[:16]


class RunFolder:
    """Claims a run folder for this process and checks that it was made with `settings`.

    Used as a context manager: creates the folder, takes its lock (held
    until the block ends), then compares `settings` with those recorded in
    `run.json`, writing them when there are none yet.

    Args:
        folder: str. The run folder.
        settings: dict of JSON values. What decides the run's results.
        start_over: bool. Remove `entries` (the folder's earlier runs) first.
        entries: tuple of str. Names in the folder that `start_over` removes
            (globs allowed); `run.json` always goes with them.
        role: str. Whose lock to take: `"chief"` records the settings;
            any other role (a distributed-search worker) only checks them.
        remedy: str. What the error for other settings tells the user to do
            (default: a new `--out`, or `--start-over`).

    Raises:
        RunFolderError: another process holds the folder, or it was made
            with other settings, or its `run.json` is damaged.
    """

    def __init__(self, folder, settings, start_over=False, entries=(), role="chief", remedy=None):
        self.folder = folder
        self.settings = settings
        self.start_over = start_over
        self.entries = entries
        self.role = role
        self.remedy = remedy or START_OVER
        self._lock = None

    def __enter__(self):
        os.makedirs(self.folder, exist_ok=True)
        self._take_lock()
        try:
            if self.start_over:
                self._remove_runs()
            self._check_settings()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc):
        self._release()

    def _take_lock(self):
        name = ".lock" if self.role == "chief" else f".lock-{self.role}"
        path = os.path.join(self.folder, name)
        handle = open(path, "a+")  # noqa: SIM115 (held until __exit__)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunFolderError(
                f"run folder {self.folder} is in use by process {holder} (a run with the same --out); "
                "wait for it to end or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def _release(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _remove_runs(self):
        import glob

        for pattern in (*self.entries, SETTINGS_FILE):
            for path in glob.glob(os.path.join(glob.escape(self.folder), pattern)):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)

    def _check_settings(self):
        path = os.path.join(self.folder, SETTINGS_FILE)
        if not os.path.lexists(path):
            if self.role == "chief":
                atomic_write_json(path, {"settings": self.settings})
            return
        recorded = read_json(path, self.remedy).get("settings")
        if not isinstance(recorded, dict):
            raise damaged(path, self.remedy)
        differs = settings_differences(recorded, self.settings)
        if differs:
            raise RunFolderError(
                f"run folder {self.folder} was made with other settings ({differs}); {self.remedy}"
            )
