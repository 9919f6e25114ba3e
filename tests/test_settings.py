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
