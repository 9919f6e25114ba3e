"""Results files' summary over seeds: means, spreads, and thresholds some seeds never reached."""

import pytest

from mnist_vit.results import seconds_to_reach, summarize


def test_summary_averages_seeds_and_skips_thresholds_never_reached():
    per_seed = [
        {"exact_accuracy": 0.9, "seconds_to_validation": {"0.9": 100.0, "0.95": None}},
        {"exact_accuracy": 0.8, "seconds_to_validation": {"0.9": 300.0, "0.95": None}},
    ]
    summary = summarize(per_seed)
    assert summary["exact_accuracy"] == pytest.approx(0.85)
    assert summary["exact_accuracy_std"] == pytest.approx(0.05)
    assert summary["seconds_to_validation"] == {"0.9": 200.0, "0.95": None}


def test_seconds_to_reach_reads_the_first_epoch_at_the_threshold():
    history = {"val_auc": [0.5, 0.92, 0.91, 0.96], "elapsed_seconds": [10.0, 20.0, 30.0, 40.0]}
    assert seconds_to_reach(history, "val_auc", (0.9, 0.95, 0.99)) == {
        "0.9": 20.0,
        "0.95": 40.0,
        "0.99": None,
    }
