"""Training and testing one sequence model (sum or anchor task)."""

import inspect

import keras

from mnist_vit.sequences import EVALUATION_BATCH_SIZE, MAX_LEN, TEST_SEED, VALIDATION_SEED, SequenceBatches
from mnist_vit.slots import required_slots
from mnist_vit.training import make_callbacks, make_optimizer

TRAINING_KEYS = ("learning_rate", "weight_decay", "batch_size")


def model_kwargs(builder, hyperparameters):
    """The hyperparameters that `builder` takes (the rest do not apply to it)."""
    accepted = inspect.signature(builder).parameters
    return {key: value for key, value in hyperparameters.items() if key in accepted}


def applied_hyperparameters(task, model_name, hyperparameters):
    """The hyperparameters a model is actually trained with: its builder's and training's."""
    kwargs = model_kwargs(task.builders[model_name], hyperparameters)
    training = {key: hyperparameters[key] for key in TRAINING_KEYS if key in hyperparameters}
    return {**kwargs, **training}


def build_and_compile(task, model_name, hyperparameters, total_steps):
    """Builds `model_name` of `task` from `hyperparameters` and compiles it."""
    model = task.builders[model_name](**model_kwargs(task.builders[model_name], hyperparameters))
    return compile_for_task(task, model, hyperparameters, total_steps)


def compile_for_task(task, model, hyperparameters, total_steps):
    """Compiles `model` with the task's loss and metrics and the project's optimizer; returns it.

    AdamW at `hyperparameters["learning_rate"]` and `["weight_decay"]`,
    warm-up over the first 5% of `total_steps`, then cosine decay.
    """
    model.compile(
        optimizer=make_optimizer(
            hyperparameters["learning_rate"],
            hyperparameters["weight_decay"],
            total_steps,
            warmup_steps=total_steps // 20,
        ),
        loss=task.make_loss(),
        metrics=task.make_metrics(),
    )
    return model


def make_batches(task, model_name, split, num_sequences, batch_size, seed, fresh=False, lengths=(1, MAX_LEN)):
    """`SequenceBatches` for one model: padded to max_len only where the model needs it."""
    pad_to = MAX_LEN if model_name in task.fixed_slot_models else None
    return SequenceBatches(
        split,
        task.name,
        num_sequences,
        batch_size=batch_size,
        seed=seed,
        lengths=lengths,
        fresh=fresh,
        pad_to=pad_to,
    )


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
    patience=10,
    verbose="auto",
):
    """Trains one model with `model.fit` and returns `(best_model, history)`.

    Training sequences are drawn afresh every epoch from the train split;
    validation sequences are fixed (seed `VALIDATION_SEED`) and drawn from the
    validation split; both have lengths uniform on `lengths` (inclusive).
    The best epoch by `task.monitor` is kept in `run_dir/best.keras`; training
    stops early after `patience` epochs without improvement; logs go to
    `run_dir/logs` (TensorBoard) and `run_dir/history.csv`.
    """
    keras.utils.set_random_seed(seed)
    batch_size = hyperparameters["batch_size"]
    train = make_batches(
        task, model_name, splits["train"], train_sequences, batch_size, seed, fresh=True, lengths=lengths
    )
    validation = make_batches(
        task,
        model_name,
        splits["validation"],
        validation_sequences,
        EVALUATION_BATCH_SIZE,
        VALIDATION_SEED,
        lengths=lengths,
    )
    model = build_and_compile(task, model_name, hyperparameters, epochs * len(train))
    callbacks, best_path = make_callbacks(run_dir, monitor=task.monitor, mode=task.mode, patience=patience)
    history = model.fit(
        train, validation_data=validation, epochs=epochs, callbacks=callbacks, verbose=verbose
    )
    return keras.saving.load_model(best_path), history


def evaluate_sequence_model(
    task, model, split, num_sequences, lengths=(1, MAX_LEN), seed=TEST_SEED, verbose=0
):
    """Evaluates `model` on fixed sequences of `split`; returns `task.test_metrics`' dict.

    The sequences are padded to the slot count the model needs, if any
    (`required_slots`), else bucketed by length.
    """
    batches = SequenceBatches(
        split,
        task.name,
        num_sequences,
        EVALUATION_BATCH_SIZE,
        seed=seed,
        lengths=lengths,
        pad_to=required_slots(model),
    )
    predictions = model.predict(batches, verbose=verbose)
    return task.test_metrics(predictions, batches.served_targets(), batches.served_lengths())
