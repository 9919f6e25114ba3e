"""The hyperparameter search: its space, the KerasTuner hypermodel, and tuners that start with the defaults.

The search tunes a task's attention model (`Task.searched_model`) on the
fixed validation sequences; the test split is never looked at. With the same
seed, a search proposes the same trials in the same order, and each trial
starts from the same random state.
"""

import dataclasses

import keras
import keras_tuner

from mnist_vit.encoder import EncoderConfig
from mnist_vit.hyperparameters import HeadConfig, Hyperparameters, TrainingConfig
from mnist_vit.sequences import EVALUATION_BATCH_SIZE, VALIDATION_SEED, SequenceBatches
from mnist_vit.training import build_model, compile_for_task


def task_encoder(task):
    """`EncoderConfig`'s defaults with the task's own values (`Task.encoder`) in their place."""
    return dataclasses.replace(EncoderConfig(), **task.encoder)


def search_space(hp, task):
    """Registers the search space in `hp` and returns the trial's flat hyperparameter dict.

    Every default is the dataclass default of its group
    (`mnist_vit.hyperparameters`), except where the task sets it: the range
    of `num_blocks` (`Task.num_blocks`; the default is `HeadConfig`'s,
    clamped into the range) and `augment` (`task_encoder(task)`).

    Args:
        hp: `keras_tuner.HyperParameters`.
        task: `Task`.

    Returns:
        dict for `trial_hyperparameters`, without what the search does not tune.
    """
    low, high = task.num_blocks
    return {
        "embed_dim": hp.Choice("embed_dim", [32, 64, 128], default=EncoderConfig.embed_dim),
        "augment": hp.Boolean("augment", default=task_encoder(task).augment),
        "num_blocks": hp.Int("num_blocks", low, high, default=max(low, min(high, HeadConfig.num_blocks))),
        "num_heads": hp.Choice("num_heads", [2, 4], default=HeadConfig.num_heads),
        "ff_dim": hp.Choice("ff_dim", [64, 128, 256], default=HeadConfig.ff_dim),
        "dropout": hp.Float("dropout", 0.0, 0.3, step=0.1, default=HeadConfig.dropout),
        "learning_rate": hp.Float(
            "learning_rate", 1e-3, 5e-3, sampling="log", default=TrainingConfig.learning_rate
        ),
        "weight_decay": hp.Float(
            "weight_decay", 1e-5, 1e-3, sampling="log", default=TrainingConfig.weight_decay
        ),
    }


def default_values(task):
    """The search space's defaults for `task` (the first trial of a random or Bayesian search)."""
    hp = keras_tuner.HyperParameters()
    return search_space(hp, task)


def trial_hyperparameters(task, values, batch_size):
    """The `Hyperparameters` that a trial's flat `values` (a `search_space` dict) train with.

    Adds what the search does not tune: `batch_size` (a run setting) and the
    task's encoder dtype policy (`task_encoder(task).dtype_policy`), so that a
    search, its trials' records and the models trained from them agree.
    """
    dtype_policy = task_encoder(task).dtype_policy
    return Hyperparameters.from_dict({**values, "dtype_policy": dtype_policy, "batch_size": batch_size})


def chosen_trial(trials, defaults, direction, margin):
    """The trial whose hyperparameters the final models train with.

    The best-scoring trial, unless a trial with the default values scores
    within `margin` of it: a short trial's score is noisy (its spread over
    seeds is measured by `experiments/studies/study_search.py`), so a configuration
    must beat the defaults by more than that noise to replace them.

    Args:
        trials: list of dicts with "score" and "hyperparameters" (a flat
            dict), best first.
        defaults: dict, `default_values(task)`.
        direction: "max" or "min", the objective's.
        margin: float >= 0, in the objective's units.

    Returns:
        The chosen dict of `trials`.
    """
    best = trials[0]
    for trial in trials:
        if all(trial["hyperparameters"].get(key) == value for key, value in defaults.items()):
            gain = best["score"] - trial["score"] if direction == "max" else trial["score"] - best["score"]
            return best if gain > margin else trial
    return best


class SequenceHyperModel(keras_tuner.HyperModel):
    """The attention model of a sequence task, for KerasTuner.

    `build(hp)` maps `hp` onto the task's builder (via `search_space`),
    after seeding Keras's random state, so a trial's score depends on its
    hyperparameters only; `fit` draws the training sequences and the fixed
    validation sequences and passes the tuner's `**kwargs` (epochs,
    callbacks) on to `model.fit`.

    Args:
        task: `Task`.
        splits: dict of `Split` with "train" and "validation".
        train_sequences: int. Fresh training sequences per epoch.
        validation_sequences: int. Fixed validation sequences.
        epochs: int. Epochs per trial (sets the learning-rate schedule).
        batch_size: int.
        seed: int. Seed of every trial's initial weights and training sequences.
        pool: None or int: the training sequences' pool (`SequenceBatches`).
    """

    def __init__(
        self,
        task,
        splits,
        train_sequences,
        validation_sequences,
        epochs,
        batch_size,
        seed=0,
        pool=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.task = task
        self.splits = splits
        self.train_sequences = train_sequences
        self.validation_sequences = validation_sequences
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.pool = pool

    def hyperparameters(self, hp):
        """The `Hyperparameters` a trial with `hp` trains with."""
        return trial_hyperparameters(self.task, search_space(hp, self.task), self.batch_size)

    def build(self, hp):
        keras.utils.set_random_seed(self.seed)
        hyperparameters = self.hyperparameters(hp)
        model = build_model(self.task, self.task.searched_model, hyperparameters)
        steps = self.epochs * -(-self.train_sequences // self.batch_size)
        return compile_for_task(self.task, model, hyperparameters.training, steps)

    def fit(self, hp, model, *args, **kwargs):
        train = SequenceBatches(
            self.splits["train"],
            self.task,
            self.train_sequences,
            self.batch_size,
            seed=self.seed,
            fresh=True,
            pool=self.pool,
        )
        validation = SequenceBatches(
            self.splits["validation"],
            self.task,
            self.validation_sequences,
            EVALUATION_BATCH_SIZE,
            seed=VALIDATION_SEED,
        )
        return model.fit(train, *args, validation_data=validation, **kwargs)


ORACLES = {
    "random": keras_tuner.oracles.RandomSearchOracle,
    "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
    "hyperband": keras_tuner.oracles.HyperbandOracle,
}


class DefaultsFirst:
    """Oracle mixin: the search's first trial uses every hyperparameter's default.

    The defaults are the untuned model, so even a search of a few trials
    scores it and can only find something better; the other trials are the
    oracle's own. Not for Hyperband, whose brackets schedule every trial.
    """

    def populate_space(self, trial_id):
        if self.trials:
            return super().populate_space(trial_id)
        # A copy: KerasTuner hands this dict to the trial as is, and the
        # oracle's own defaults must not change with the trial's values.
        defaults = dict(self.hyperparameters.values)
        return {"status": keras_tuner.engine.trial.TrialStatus.RUNNING, "values": defaults}


class PerTrialTensorBoard:
    """Tuner mixin: TensorBoard logs of each trial in `<log_dir>/<trial_id>/execution<i>`.

    KerasTuner does this itself, with the HParams dashboard, only on the
    TensorFlow backend; elsewhere every trial would write into one folder.
    Also prints a line when a trial starts and one when it ends, naming the
    tuner process that ran it (in distributed tuning, KerasTuner reports only
    on the chief).
    """

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        print(f"[{self.tuner_id}] trial {trial.trial_id} started", flush=True)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        hyperparameters = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in trial.hyperparameters.values.items()
        )
        score = self.oracle.get_trial(trial.trial_id).score
        score = "n/a" if score is None else f"{score:.4f}"
        print(
            f"[{self.tuner_id}] trial {trial.trial_id} finished: score {score}; {hyperparameters}", flush=True
        )

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        if keras.backend.backend() == "tensorflow":
            return super()._configure_tensorboard_dir(callbacks, trial, execution)
        for callback in callbacks:
            if isinstance(callback, keras.callbacks.TensorBoard):
                callback.log_dir = self._get_tensorboard_dir(callback.log_dir, trial.trial_id, execution)


class LoggedTuner(PerTrialTensorBoard, keras_tuner.Tuner):
    """A KerasTuner `Tuner` with `PerTrialTensorBoard`'s folders and trial lines."""


def make_tuner(kind, hypermodel, objective, direction, max_trials, epochs, directory, project_name, seed=0):
    """Builds a tuner of `kind` ("random", "bayesian" or "hyperband").

    Random and Bayesian search start with the defaults (`DefaultsFirst`).
    Running again with the same `directory` and `project_name` resumes the
    search: completed trials are reloaded, not retrained.

    Args:
        objective, direction: validation metric name and "max" or "min".
        max_trials: int. Trials for random and Bayesian search.
        epochs: int. Hyperband's `max_epochs` (other tuners take epochs from
            `search`).
        seed: int >= 0. The same seed proposes the same trials in the same
            order. (KerasTuner takes a seed of 0 as "no seed" and draws a
            random one, so the oracle gets `seed + 1`.)
    """
    if kind not in ORACLES:
        raise ValueError(f"Unknown tuner {kind!r}; expected one of {tuple(ORACLES)}")
    objective = keras_tuner.Objective(objective, direction)
    oracle_seed = seed + 1
    if kind == "hyperband":
        oracle = ORACLES[kind](
            objective, max_epochs=epochs, factor=3, hyperband_iterations=1, seed=oracle_seed
        )
    else:
        oracle_class = type(f"DefaultsFirst{ORACLES[kind].__name__}", (DefaultsFirst, ORACLES[kind]), {})
        oracle = oracle_class(objective, max_trials=max_trials, seed=oracle_seed)
    return LoggedTuner(
        oracle=oracle, hypermodel=hypermodel, directory=directory, project_name=project_name, overwrite=False
    )
