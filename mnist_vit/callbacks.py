"""The callbacks of one training run: resume after a crash, best checkpoint, time, logs."""

import math
import os
import time

import keras
import numpy as np

from mnist_vit.errors import TrainingDiverged
from mnist_vit.results import best_epoch
from mnist_vit.run_folder import damaged, read_csv_rows, read_json
from mnist_vit.safe_files import atomic_write, atomic_write_json, save_model_atomically

BACKUP_STATE = "state.json"  # in the backup folder: the completed epochs and the weights file that holds them


def start_over_remedy(run_dir):
    """What to do about a damaged file of the training run in `run_dir`."""
    return f"delete {run_dir} to train this model from its first epoch"


class RunBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` whose backup is replaced whole at every epoch's end, or not at all.

    Each epoch's weights (with the optimizer's state) go to a new file,
    written atomically, and only then does `state.json` (written atomically
    too) name that file and the number of completed epochs; the older file
    is removed last. A process killed at any moment leaves a backup that
    resumes. A backup that cannot be read back raises `RunFolderError`
    naming it and how to start the model over, never a traceback.

    `state.json` also holds the states of the model's random seed generators
    (dropout, augmentation), which Keras's weight files leave out: a resumed
    run draws the same random numbers as an uninterrupted one, so it ends
    with the same weights.

    Args:
        backup_dir: str. The backup folder (`<run_dir>/backup`).
        remedy: str. What the error for a damaged backup tells the user to do.
    """

    def __init__(self, backup_dir, remedy):
        super().__init__(backup_dir)
        self.remedy = remedy
        self.state_path = os.path.join(backup_dir, BACKUP_STATE)

    def state(self):
        """`(completed_epochs, weights_path, seed_states)` of the backup; `(0, None, None)` if none."""
        if not os.path.lexists(self.state_path):
            return 0, None, None
        state = read_json(self.state_path, self.remedy)
        epoch, name = state.get("epoch"), state.get("weights")
        if type(epoch) is not int or epoch < 1 or not isinstance(name, str) or os.path.basename(name) != name:
            raise damaged(self.state_path, self.remedy)
        path = os.path.join(self.backup_dir, name)
        if not os.path.isfile(path):
            raise damaged(path, self.remedy)
        return epoch, path, state.get("seeds")

    def _seed_states(self):
        """The model's seed generators' state variables, in the model's order of variables."""
        return [v for v in self.model.variables if v.path.endswith("seed_generator_state")]

    def _load_model(self):
        epoch, path, seeds = self.state()
        if not epoch:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(path)
        except Exception as error:  # h5py and Keras raise many types for a damaged file
            raise damaged(path, self.remedy) from error
        try:
            for variable, value in zip(self._seed_states(), seeds, strict=True):
                variable.assign(np.asarray(value, dtype=variable.dtype).reshape(variable.shape))
        except (TypeError, ValueError) as error:
            raise damaged(self.state_path, self.remedy) from error
        self.model._initial_epoch = epoch

    def _save_model(self):
        name = f"epoch_{self._current_epoch}.weights.h5"
        atomic_write(os.path.join(self.backup_dir, name), ".weights.h5", self.model.save_weights)
        seeds = [keras.ops.convert_to_numpy(v).tolist() for v in self._seed_states()]
        atomic_write_json(self.state_path, {"epoch": self._current_epoch, "weights": name, "seeds": seeds})
        for other in os.listdir(self.backup_dir):
            if other.endswith(".weights.h5") and other != name:
                os.remove(os.path.join(self.backup_dir, other))


def completed_epochs(run_dir):
    """Epochs of the run in `run_dir` that its backup holds (0 when it has none): where a resume starts."""
    backup = os.path.join(run_dir, "backup")
    return RunBackup(backup, start_over_remedy(run_dir)).state()[0]


class EpochSeed(keras.callbacks.Callback):
    """Seeds Keras's random state (`keras.utils.set_random_seed`) at each epoch's start from `(seed, epoch)`.

    Random draws that no seed generator holds, such as PyTorch's unseeded
    dropout (it draws from PyTorch's global generator), then depend on the
    epoch alone, so a run resumed at an epoch draws what an uninterrupted
    run draws there. Seed generators' own states are restored by `RunBackup`.

    Args:
        seed: int. The run's seed.
    """

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        keras.utils.set_random_seed(int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0]))


class StopOnNonFiniteLoss(keras.callbacks.TerminateOnNaN):
    """`TerminateOnNaN` that then raises `TrainingDiverged`, so the run ends with one line and no results.

    The backup is left as it was at the last finite epoch.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.model.stop_training = True
            raise TrainingDiverged(
                f"training diverged: the loss is {float(loss)} at batch {batch + 1}; "
                "lower the learning rate (or the weight decay) and run again"
            )


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
        remedy: str. What the error for a damaged record tells the user to do.
    """

    def __init__(self, path, monitor, mode, resume=False, remedy="delete it"):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.path = path
        self.record_path = f"{path}.best.json"
        self.monitor = monitor
        self.mode = mode
        self.best = -math.inf if mode == "max" else math.inf
        if resume and os.path.lexists(self.record_path):
            value = read_json(self.record_path, remedy).get("value")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
                raise damaged(self.record_path, remedy)
            self.best = float(value)

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


def patience_spent(values, mode, patience):
    """Whether the last `patience` epochs of `values` (a monitor per epoch) all failed to beat an earlier
    best ("max" or "min" is better; ties keep the earlier epoch, as `BestModelCheckpoint` does)."""
    if not values:
        return False
    return len(values) - 1 - best_epoch({"monitor": values}, "monitor", mode) >= patience


class PatienceStop(keras.callbacks.Callback):
    """Early stopping: ends training once `monitor` has not improved for `patience` epochs, across resumes.

    Keras's `EarlyStopping` counts in memory, so a run killed and resumed
    would count from zero again; this callback counts over the run's whole
    history (`earlier`, the monitor's values of the epochs completed before
    a resume, then this process's), so a resumed run stops at the epoch an
    uninterrupted one stops at. Place it before `RunBackup`.

    Args:
        monitor: str. A validation metric of the epoch logs.
        mode: str. `"max"` or `"min"`.
        patience: int >= 1. Epochs without a better value that end training.
        earlier: sequence of float. The monitor's values of the completed epochs.
    """

    def __init__(self, monitor, mode, patience, earlier=()):
        super().__init__()
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.monitor, self.mode, self.patience = monitor, mode, patience
        self.values = [float(value) for value in earlier]

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"PatienceStop monitors {self.monitor!r}, not in logs {sorted(logs or {})}")
        self.values.append(float(value))
        if patience_spent(self.values, self.mode, self.patience):
            self.model.stop_training = True


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


def read_history(run_dir, remedy=None):
    """Every completed epoch's logs of a run, resumed parts included, from `run_dir/history.csv`.

    `remedy` is what the error for a damaged file tells the user to do
    (default: delete `run_dir` and train again).

    Returns:
        `{name: [float per epoch]}`, the shape of `History.history` (NaN
        where an epoch lacks a metric, `CSVLogger`'s `NA`); empty when no
        epoch completed.

    Raises:
        RunFolderError: the file cannot be read back.
    """
    path = os.path.join(run_dir, "history.csv")
    if not os.path.isfile(path):
        return {}
    rows = read_csv_rows(path, remedy or start_over_remedy(run_dir))
    names = [name for name in (rows[0] if rows else {}) if name != "epoch"]
    return {name: [row[name] for row in rows] for name in names}


def keep_history_rows(run_dir, count):
    """Cuts `run_dir/history.csv` to its header and first `count` rows (the epochs a resume keeps)."""
    path = os.path.join(run_dir, "history.csv")
    if not os.path.isfile(path):
        return
    with open(path, newline="") as f:
        lines = f.read().splitlines(keepends=True)

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            f.writelines(lines[: count + 1])

    atomic_write(path, ".csv", write)


def make_callbacks(run_dir, monitor, mode, seed=0, patience=None):
    """Callbacks for one training run, all writing under `run_dir`.

    - Keras's random state seeded from `(seed, epoch)` at each epoch's start
      (`EpochSeed`).
    - `elapsed_seconds` in the epoch logs (`ElapsedTime`), counted on from
      the last completed epoch when resuming.
    - Training stops with `TrainingDiverged` at a loss that is not finite.
    - A CSV log (`run_dir/history.csv`; on a resume, cut to the completed
      epochs and appended to).
    - The best model by `monitor`, saved atomically (`run_dir/best.keras`).
    - TensorBoard logs (`run_dir/logs`).
    - With `patience`, early stopping once `monitor` has not improved for
      that many epochs (`PatienceStop`), counted over the resumed epochs too.
    - Last, so that an epoch counts as completed only once all of the above
      are written, `RunBackup` (`run_dir/backup`): a run killed at any moment
      and started again with the same command resumes after its last
      completed epoch (same weights, optimizer state and schedule) and ends
      with the same number of epochs; the backup is removed when training
      finishes. The caller serves that epoch's data (`completed_epochs`).

    Returns:
        `(callbacks, best_model_path)`.

    Raises:
        RunFolderError: a file of the run to resume cannot be read back.
    """
    os.makedirs(run_dir, exist_ok=True)
    remedy = start_over_remedy(run_dir)
    completed = completed_epochs(run_dir)
    resuming = completed > 0
    best_path = os.path.join(run_dir, "best.keras")
    if resuming:
        keep_history_rows(run_dir, completed)
    elapsed = read_history(run_dir).get("elapsed_seconds") if resuming else None
    callbacks = [
        EpochSeed(seed),
        ElapsedTime(offset=elapsed[-1] if elapsed else 0.0),
        StopOnNonFiniteLoss(),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=resuming),
        BestModelCheckpoint(best_path, monitor=monitor, mode=mode, resume=resuming, remedy=remedy),
        keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq="epoch"),
    ]
    if patience is not None:
        earlier = read_history(run_dir).get(monitor, []) if resuming else []
        callbacks.append(PatienceStop(monitor, mode, patience, earlier))
    callbacks.append(RunBackup(os.path.join(run_dir, "backup"), remedy))
    return callbacks, best_path
