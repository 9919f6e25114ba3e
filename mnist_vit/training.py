"""Building, training and testing one model of a sequence task with `model.fit`."""

import os

import keras
import numpy as np

from mnist_vit.callbacks import completed_epochs, make_callbacks, patience_spent, read_history
from mnist_vit.data_parallel import ReplicatedAdamW, strategy_scope, under_tensorflow_strategy
from mnist_vit.digit_probe import digit_probe_accuracy
from mnist_vit.encoder import ENCODER_NAME, build_encoder
from mnist_vit.run_folder import read_model
from mnist_vit.safe_files import save_model_atomically
from mnist_vit.sequences import EVALUATION_BATCH_SIZE, MAX_LEN, TEST_SEED, VALIDATION_SEED, SequenceBatches
from mnist_vit.slots import required_slots

LONG_LENGTHS = range(1, 101)  # lengths of the long-sequence test (trained on 1..MAX_LEN)
FINAL_MODEL = "final.keras"  # a run's tested model: its schedule's end, or its best epoch when stopped early
LONG_LENGTH_SEED = 1000  # fixed test sequences of length n use seed LONG_LENGTH_SEED + n


def final_run_dir(out, model_name, seed):
    """The folder of one seed's final run of `model_name` under `out`; training writes to `<folder>/train`."""
    return os.path.join(out, "final", model_name, f"seed_{seed}")


def make_optimizer(learning_rate, weight_decay, total_steps, warmup_steps=0):
    """AdamW with linear warm-up then cosine decay to zero over `total_steps`, gradients clipped to norm 1.

    Under a TensorFlow distribution strategy, `ReplicatedAdamW`, which clips
    the gradient of the whole batch as one device does.
    """
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
    adamw = ReplicatedAdamW if under_tensorflow_strategy() else keras.optimizers.AdamW
    return adamw(learning_rate=schedule, weight_decay=weight_decay, clipnorm=1.0)


def build_model(task, model_name, hyperparameters):
    """Builds `model_name` of `task`: a new encoder from `hyperparameters.encoder`, then the model.

    Within `mnist_vit.data_parallel.data_parallel` on tensorflow, in its strategy's scope.
    """
    with strategy_scope():
        return task.models[model_name].build(build_encoder(hyperparameters.encoder), hyperparameters.head)


def compile_for_task(task, model, training, total_steps):
    """Compiles `model` with the task's loss and metrics and the project's optimizer; returns it.

    Args:
        task: `Task`.
        model: the model.
        training: `TrainingConfig`. AdamW at its learning rate and weight
            decay, warm-up over the first 5% of `total_steps`, cosine decay.
        total_steps: int. Optimizer steps of the whole run.
    """
    with strategy_scope():
        model.compile(
            optimizer=make_optimizer(
                training.learning_rate, training.weight_decay, total_steps, warmup_steps=total_steps // 20
            ),
            loss=task.loss(),
            metrics=task.metrics(),
        )
    return model


def train_sequence_model(
    task,
    model_name,
    hyperparameters,
    splits,
    run_dir,
    epochs,
    train_sequences,
    validation_sequences,
    seed=0,
    lengths=(1, MAX_LEN),
    pool=None,
    patience=None,
    verbose="auto",
):
    """Trains one model with `model.fit` for every epoch, or until early stopping; returns `(model, history)`.

    `history` is `{metric: [value per epoch]}` of every epoch of the run,
    those of earlier processes included when it resumed
    (`mnist_vit.callbacks.read_history`).

    Training sequences are drawn afresh every epoch from the train split
    (from a fixed set of `pool` sequences unless `pool` is None);
    validation sequences are fixed (seed `VALIDATION_SEED`) and drawn from the
    validation split; both have lengths uniform on `lengths` (inclusive).
    The model returned is the model at the end of the learning-rate
    schedule, saved as `run_dir/FINAL_MODEL`; the epoch with the best
    `task.monitor` is kept beside it (`run_dir/best.keras`), and
    `experiments/studies/study_checkpoint.py` tests the two against each other.
    With `patience`, training stops early once `task.monitor` has not
    improved for that many epochs (`mnist_vit.callbacks.PatienceStop`), and
    the model returned and saved as `FINAL_MODEL` is the best epoch's.
    Logs go to `run_dir/logs` (TensorBoard) and `run_dir/history.csv`.

    Args:
        task: `Task`.
        model_name: str. A key of `task.models`.
        hyperparameters: `Hyperparameters`.
        splits: dict of `Split` with "train" and "validation".
        seed: int. Seeds Keras's random state and the training sequences.
        pool: None or int, see `SequenceBatches`.
        patience: None or int >= 1. Epochs without a better `task.monitor`
            that end training (None: train every epoch).
    """
    keras.utils.set_random_seed(seed)
    batch_size = hyperparameters.training.batch_size
    train = SequenceBatches(
        splits["train"], task, train_sequences, batch_size, seed=seed, lengths=lengths, fresh=True, pool=pool
    )
    validation = SequenceBatches(
        splits["validation"],
        task,
        validation_sequences,
        EVALUATION_BATCH_SIZE,
        seed=VALIDATION_SEED,
        lengths=lengths,
    )
    model = build_model(task, model_name, hyperparameters)
    compile_for_task(task, model, hyperparameters.training, epochs * len(train))
    callbacks, best_path = make_callbacks(
        run_dir, monitor=task.monitor, mode=task.mode, seed=seed, patience=patience
    )
    completed = completed_epochs(run_dir)
    train.start_at(completed)  # a resumed run goes on with the data it would have had
    # Killed after its stopping epoch's backup, a run has no epoch left: fit then only ends it.
    done = (
        patience is not None
        and completed > 0
        and patience_spent(read_history(run_dir).get(task.monitor, []), task.mode, patience)
    )
    model.fit(
        train,
        validation_data=validation,
        epochs=completed if done else epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    if patience is not None:
        model = read_model(best_path, f"delete {run_dir} to train this model again")
    save_model_atomically(model, os.path.join(run_dir, FINAL_MODEL))
    return model, read_history(run_dir)


def evaluate_sequence_model(
    task,
    model,
    split,
    num_sequences,
    lengths=(1, MAX_LEN),
    seed=TEST_SEED,
    verbose=0,
    pad_to=None,
    anchor_absent_half=False,
):
    """Evaluates `model` on fixed sequences of `split`; returns `task.test_metrics`' dict.

    The sequences are padded to the slot count the model needs, if any
    (`required_slots`), else to `pad_to` slots, else bucketed by length;
    `anchor_absent_half` is `SequenceBatches`'. With `verbose`, Keras's
    `predict` shows its progress bar; without, the batches go through
    `predict_on_batch` one by one, which skips `predict`'s set-up (about
    0.2 s a call: the long-length test makes a hundred calls).
    """
    batches = SequenceBatches(
        split,
        task,
        num_sequences,
        EVALUATION_BATCH_SIZE,
        seed=seed,
        lengths=lengths,
        pad_to=required_slots(model) or pad_to,
        anchor_absent_half=anchor_absent_half,
    )
    if verbose:
        predictions = model.predict(batches, verbose=verbose)
    else:
        outputs = [model.predict_on_batch(batches[index][0]) for index in range(len(batches))]
        predictions = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *outputs)
    return task.test_metrics(predictions, batches.served_targets(), batches.served_lengths())


def test_metrics(task, model_name, model, splits, num_sequences):
    """A trained model's test metrics, as the results files report them.

    `evaluate_sequence_model` on `num_sequences` fixed sequences of
    `splits["test"]`; for a model that takes any length, of a task with
    `long_lengths`, also `task.headline` at each of `LONG_LENGTHS`
    (`long_length_accuracy`, the same number of sequences spread over the
    lengths), under `f"{task.headline}_by_long_length"`; for a task with
    `digit_probe`, also `digit_probe_accuracy`: a linear probe on the frozen
    encoder, fit on `num_sequences` of `splits["train"]`'s images, read on as
    many of `splits["test"]`'s (`mnist_vit.digit_probe`).
    """
    split = splits["test"]
    metrics = evaluate_sequence_model(task, model, split, num_sequences)
    if task.long_lengths and task.models[model_name].any_length:
        per_length = max(1, num_sequences // len(LONG_LENGTHS))
        metrics[f"{task.headline}_by_long_length"] = long_length_accuracy(task, model, split, per_length)
    if task.digit_probe:
        encoder = model.get_layer(ENCODER_NAME)
        metrics["digit_probe_accuracy"] = digit_probe_accuracy(encoder, splits["train"], split, num_sequences)
    return metrics


def long_length_accuracy(task, model, split, per_length, lengths=LONG_LENGTHS):
    """`task.headline` at each of `lengths` (default `LONG_LENGTHS`), on `per_length` fixed sequences each.

    The batches of length L are padded to L rounded up to a multiple of
    `MAX_LEN` (the padding is masked), so a backend that compiles each input
    shape (JAX) compiles 10 shapes for lengths 11..100, not 90. For a task
    with an anchor, the anchor's digit is absent from half the sequences of
    each length (`sample_sequences`' `anchor_absent_half`): drawn uniformly,
    nearly every long sequence would hold it, and "yes" would always be right.

    Returns:
        `{str(length): value}`.
    """
    return {
        str(length): evaluate_sequence_model(
            task,
            model,
            split,
            per_length,
            lengths=(length, length),
            seed=LONG_LENGTH_SEED + length,
            pad_to=-(-length // MAX_LEN) * MAX_LEN,
            anchor_absent_half=task.has_anchor,
        )[task.headline]
        for length in lengths
    }
