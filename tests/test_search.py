import keras
import keras_tuner
import pytest

from mnist_vit.search import (
    ORACLES,
    chosen_trial,
    default_values,
    make_tuner,
    search_space,
    trial_hyperparameters,
)
from mnist_vit.settings import TUNERS
from mnist_vit.tasks import get_task


class SearchSpaceOnly(keras_tuner.HyperModel):
    """Registers the sum task's search space; the model itself is a stand-in."""

    def build(self, hp):
        search_space(hp, get_task("sum"))
        return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])


@pytest.mark.parametrize("kind", ["random", "bayesian"])
def test_search_starts_with_the_defaults_then_samples(tmp_path, kind):
    defaults = default_values(get_task("sum"))
    tuner = make_tuner(kind, SearchSpaceOnly(), "val_loss", "min", 3, 2, directory=tmp_path, project_name="p")
    first = tuner.oracle.create_trial("first").hyperparameters.values
    second = tuner.oracle.create_trial("second").hyperparameters.values
    assert first == defaults
    assert second["learning_rate"] != defaults["learning_rate"]


@pytest.mark.parametrize(("task_name", "dtype_policy"), [("sum", "float32"), ("anchor", "mixed_bfloat16")])
def test_every_trial_trains_with_the_tasks_encoder_dtype_policy_which_is_not_searched(
    tmp_path, task_name, dtype_policy
):
    task = get_task(task_name)
    tuner = make_tuner(
        "random", SearchSpaceOnly(), "val_loss", "min", 3, 2, directory=tmp_path, project_name="p"
    )
    assert "dtype_policy" not in tuner.oracle.hyperparameters.values
    for values in (default_values(task), tuner.oracle.create_trial("1").hyperparameters.values):
        hyperparameters = trial_hyperparameters(task, values, batch_size=32)
        assert hyperparameters.encoder.dtype_policy == dtype_policy
        assert hyperparameters.training.batch_size == 32


def test_unknown_tuner_is_named(tmp_path):
    with pytest.raises(ValueError, match="Unknown tuner 'grid'"):
        make_tuner("grid", SearchSpaceOnly(), "val_loss", "min", 3, 2, directory=tmp_path, project_name="p")


def test_the_tuner_option_offers_every_oracle():
    assert sorted(TUNERS) == sorted(ORACLES)


def trial(score, **values):
    return {"score": score, "hyperparameters": {"learning_rate": 3e-3, "augment": True, **values}}


DEFAULTS = {"learning_rate": 3e-3, "augment": True}


def test_the_defaults_stay_unless_a_trial_beats_them_by_more_than_the_margin():
    defaults, close, far = trial(0.90), trial(0.91, augment=False), trial(0.95, learning_rate=1e-3)
    assert chosen_trial([close, defaults], DEFAULTS, "max", margin=0.02) is defaults
    assert chosen_trial([far, close, defaults], DEFAULTS, "max", margin=0.02) is far
    assert chosen_trial([close, defaults], DEFAULTS, "max", margin=0.0) is close
    # A loss, lower is better.
    assert chosen_trial([trial(0.30, augment=False), trial(0.31)], DEFAULTS, "min", 0.02)["score"] == 0.31
    assert chosen_trial([trial(0.20, augment=False), trial(0.31)], DEFAULTS, "min", 0.02)["score"] == 0.20


def test_without_a_defaults_trial_the_best_is_chosen():
    best = trial(0.5, augment=False)
    assert chosen_trial([best, trial(0.4, learning_rate=1e-3)], DEFAULTS, "max", margin=0.5) is best
