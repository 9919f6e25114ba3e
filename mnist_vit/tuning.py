"""KerasTuner tuners that try the defaults first, with one TensorBoard folder per trial on every backend."""

import keras
import keras_tuner

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
    """
    if kind not in ORACLES:
        raise ValueError(f"Unknown tuner {kind!r}; expected one of {tuple(ORACLES)}")
    objective = keras_tuner.Objective(objective, direction)
    if kind == "hyperband":
        oracle = ORACLES[kind](objective, max_epochs=epochs, factor=3, hyperband_iterations=1, seed=seed)
    else:
        oracle_class = type(f"DefaultsFirst{ORACLES[kind].__name__}", (DefaultsFirst, ORACLES[kind]), {})
        oracle = oracle_class(objective, max_trials=max_trials, seed=seed)
    return LoggedTuner(
        oracle=oracle, hypermodel=hypermodel, directory=directory, project_name=project_name, overwrite=False
    )
