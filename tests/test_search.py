import keras
import keras_tuner
import pytest
from run_script import load_run_tuner

from mnist_vit.search import ORACLES, make_tuner, search_space
from mnist_vit.tasks import get_task


class SearchSpaceOnly(keras_tuner.HyperModel):
    """Registers the sum task's search space; the model itself is a stand-in."""

    def build(self, hp):
        search_space(hp, get_task("sum"))
        return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])


@pytest.mark.parametrize("kind", ["random", "bayesian"])
def test_search_starts_with_the_defaults_then_samples(tmp_path, kind):
    defaults = keras_tuner.HyperParameters()
    search_space(defaults, get_task("sum"))
    tuner = make_tuner(kind, SearchSpaceOnly(), "val_loss", "min", 3, 2, directory=tmp_path, project_name="p")
    first = tuner.oracle.create_trial("first").hyperparameters.values
    second = tuner.oracle.create_trial("second").hyperparameters.values
    assert first == defaults.values
    assert second["learning_rate"] != defaults.values["learning_rate"]


def test_unknown_tuner_is_named(tmp_path):
    with pytest.raises(ValueError, match="Unknown tuner 'grid'"):
        make_tuner("grid", SearchSpaceOnly(), "val_loss", "min", 3, 2, directory=tmp_path, project_name="p")


def test_the_tuner_option_offers_every_oracle():
    assert sorted(load_run_tuner().TUNERS) == sorted(ORACLES)
