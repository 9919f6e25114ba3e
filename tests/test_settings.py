"""Settings made in Python (a notebook, a study) are checked as run_tuner.py checks its options."""

import pytest

from mnist_vit.errors import UsageError
from mnist_vit.settings import Settings


@pytest.mark.parametrize(
    "change, named",
    [
        ({"epochs": 0}, "Settings.epochs is 0; expected a whole number >= 1"),
        ({"seeds": 2.0}, "Settings.seeds is 2.0; expected a whole number"),
        ({"trials": True}, "Settings.trials is True"),
        (
            {"test_sequences": 10**7},
            "Settings.test_sequences is 10000000; expected a whole number in 1..1,000,000",
        ),
        ({"validation_sequences": None}, "Settings.validation_sequences is None"),
        ({"seed": -1}, "Settings.seed is -1"),
        ({"train_pool": 0}, "Settings.train_pool is 0; expected a whole number in 1..1,000,000"),
        ({"patience": 0}, "Settings.patience is 0; expected a whole number >= 1"),
        ({"search_margin": float("nan")}, "Settings.search_margin is nan; expected a number in [0, 1]"),
        ({"task": "nope"}, "Settings.task is 'nope'; expected one of ['anchor', 'ascents', 'distinct'"),
        ({"tuner": "grid"}, "Settings.tuner is 'grid'"),
        ({"out": 3}, "Settings.out is 3; expected a path"),
    ],
)
def test_settings_made_in_python_are_checked_like_the_options(change, named):
    with pytest.raises(UsageError) as error:
        Settings(**change)
    assert str(error.value).startswith(named)
    assert Settings(epochs=3, seeds=None).epochs == 3  # a budget setting left None comes from the preset
    assert Settings(train_pool=None).train_pool is None  # no pool: new training sequences every epoch
    assert Settings(patience=None).patience is None  # no early stopping: every epoch trains


def test_the_training_pool_reaches_the_search_and_the_final_models_and_the_patience_the_final_ones(
    monkeypatch, tiny_split
):
    import mnist_vit.training
    from mnist_vit.experiment import hypermodel_for, train_final_model
    from mnist_vit.tasks import get_task

    settings = Settings(train_pool=7, patience=3, out="unused").with_preset(get_task("sum"))
    splits = {"train": tiny_split, "validation": tiny_split}
    assert hypermodel_for(get_task("sum"), settings, splits, seed=0).pool == 7
    calls = []
    monkeypatch.setattr(
        mnist_vit.training, "train_sequence_model", lambda *args, **kwargs: calls.append(kwargs)
    )
    train_final_model(get_task("sum"), "deepsets", None, splits, settings, seed=1)
    assert calls == [{"seed": 1, "pool": 7, "patience": 3}]
