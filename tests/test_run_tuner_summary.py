"""run_tuner.py's summary over seeds: means, spreads, and thresholds some seeds never reached."""

import importlib.util

import pytest
from run_script import ROOT

spec = importlib.util.spec_from_file_location("run_tuner", ROOT / "experiments" / "run_tuner.py")
run_tuner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_tuner)


def test_summary_averages_seeds_and_skips_thresholds_never_reached():
    per_seed = [
        {"exact_accuracy": 0.9, "seconds_to_validation": {"0.9": 100.0, "0.95": None}},
        {"exact_accuracy": 0.8, "seconds_to_validation": {"0.9": 300.0, "0.95": None}},
    ]
    summary = run_tuner.summarize(per_seed)
    assert summary["exact_accuracy"] == pytest.approx(0.85)
    assert summary["exact_accuracy_std"] == pytest.approx(0.05)
    assert summary["seconds_to_validation"] == {"0.9": 200.0, "0.95": None}


def test_seconds_to_reach_reads_the_first_epoch_at_the_threshold():
    history = {"val_auc": [0.5, 0.92, 0.91, 0.96], "elapsed_seconds": [10.0, 20.0, 30.0, 40.0]}
    assert run_tuner.seconds_to_reach(history, "val_auc", (0.9, 0.95, 0.99)) == {
        "0.9": 20.0,
        "0.95": 40.0,
        "0.99": None,
    }
