"""Shared training pieces: optimizer with a schedule, and callbacks."""

import os
import time

import keras

from mnist_vit.checkpoints import BestModelCheckpoint


def make_optimizer(learning_rate, weight_decay, total_steps, warmup_steps=0):
    """AdamW with linear warm-up then cosine decay to zero over `total_steps`."""
    if learning_rate <= 0 or total_steps < 1:
        raise ValueError(
            f"learning_rate and total_steps must be positive, got {learning_rate} and {total_steps}"
        )
    warmup_steps = min(warmup_steps, total_steps - 1)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else learning_rate,
        decay_steps=total_steps - warmup_steps,
        warmup_target=learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
    return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay, clipnorm=1.0)


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


def make_callbacks(run_dir, monitor, mode, patience=None):
    """Callbacks for one training run, all writing under `run_dir`.

    - `BackupAndRestore` (`run_dir/backup`): a run killed mid-epoch and
      started again with the same command resumes after its last completed
      epoch (same weights, optimizer state and schedule) and ends with the
      same number of epochs; the backup is removed when training finishes.
    - `elapsed_seconds` in the epoch logs (`ElapsedTime`).
    - A CSV log (`run_dir/history.csv`, appended to on a resume).
    - The best model by `monitor`, saved atomically (`run_dir/best.keras`).
    - TensorBoard logs (`run_dir/logs`).
    - Early stopping on `monitor` when `patience` is set (its patience count
      restarts on a resume).

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
    if patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=patience, restore_best_weights=False
            )
        )
    return callbacks, best_path
