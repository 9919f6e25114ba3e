"""Shared training pieces: optimizer with a schedule, and callbacks."""

import os

import keras


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


def make_callbacks(run_dir, monitor, mode, patience=None):
    """Callbacks for one training run, all writing under `run_dir`.

    TensorBoard logs (`run_dir/logs`), a CSV log (`run_dir/history.csv`), the
    best model by `monitor` (`run_dir/best.keras`) and, when `patience` is
    set, early stopping on `monitor`.

    Returns:
        `(callbacks, best_model_path)`.
    """
    os.makedirs(run_dir, exist_ok=True)
    best_path = os.path.join(run_dir, "best.keras")
    callbacks = [
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv")),
        keras.callbacks.ModelCheckpoint(best_path, monitor=monitor, mode=mode, save_best_only=True),
        keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq="epoch"),
    ]
    if patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=patience, restore_best_weights=False
            )
        )
    return callbacks, best_path
