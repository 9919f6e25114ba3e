"""Results files: summaries over seeds, thresholds some seeds never reached, the command, where they lie."""

import os
import platform

import pytest

from mnist_vit.results import (
    backend_folder,
    best_epoch,
    best_epoch_value,
    cpu_model,
    run_metadata,
    seconds_to_reach,
    summarize,
    with_std,
)


def test_summary_averages_seeds_and_skips_thresholds_never_reached():
    per_seed = [
        {"exact_accuracy": 0.9, "seconds_to_validation": {"0.9": 100.0, "0.95": None}},
        {"exact_accuracy": 0.8, "seconds_to_validation": {"0.9": 300.0, "0.95": None}},
    ]
    summary = summarize(per_seed)
    assert summary["exact_accuracy"] == pytest.approx(0.85)
    # The sample std: sqrt(((0.9 - 0.85)^2 + (0.8 - 0.85)^2) / (2 - 1)).
    assert summary["exact_accuracy_std"] == pytest.approx((2 * 0.05**2) ** 0.5)
    assert summarize(per_seed[:1])["exact_accuracy_std"] == 0.0
    assert summary["seconds_to_validation"] == {"0.9": 200.0, "0.95": None}
    assert summary["seconds_to_validation_std"]["0.9"] == pytest.approx((2 * 100.0**2) ** 0.5)


def test_with_std_writes_the_spread_of_a_scalar_or_of_one_entry_of_a_dict():
    summary = summarize([{"mse": 0.3, "by_length": {"20": 0.9}}, {"mse": 0.5, "by_length": {"20": 0.8}}])
    assert with_std(summary, "mse", 3) == f"0.400 ± {(2 * 0.1**2) ** 0.5:.3f}"
    assert with_std(summary, "by_length", 2, entry="20") == f"0.85 ± {(2 * 0.05**2) ** 0.5:.2f}"
    assert with_std(summarize([{"mse": 0.3}]), "mse", 3) == "0.300"
    assert with_std(summarize([{"auc": 0.99880}, {"auc": 0.99886}]), "auc") == "0.9988 ± 4e-05"


def test_seconds_to_reach_reads_the_first_epoch_at_the_threshold():
    history = {"val_auc": [0.5, 0.92, 0.91, 0.96], "elapsed_seconds": [10.0, 20.0, 30.0, 40.0]}
    assert seconds_to_reach(history, "val_auc", (0.9, 0.95, 0.99)) == {
        "0.9": 20.0,
        "0.95": 40.0,
        "0.99": None,
    }


def test_the_best_epoch_is_the_largest_or_smallest_value():
    history = {"val_auc": [0.5, 0.92, 0.91], "val_loss": [0.7, 0.3, 0.4]}
    assert best_epoch_value(history, "val_auc", "max") == 0.92
    assert best_epoch_value(history, "val_loss", "min") == 0.3


def test_a_tied_best_epoch_is_the_earliest_as_the_checkpoint_keeps_it():
    history = {"val_accuracy": [0.90, 0.95, 0.93, 0.95]}
    assert best_epoch(history, "val_accuracy", "max") == 1
    assert best_epoch({"val_loss": [0.4, 0.2, 0.2]}, "val_loss", "min") == 1


def test_the_recorded_command_names_the_backend_unless_it_is_kerass_default():
    import keras

    command = run_metadata(["experiments/run_tuner.py", "--task", "sum"])["command"]
    backend = keras.backend.backend()
    named = "" if backend == "tensorflow" else f"KERAS_BACKEND={backend} "
    assert command == f"{named}python experiments/run_tuner.py --task sum"


def test_the_metadata_names_the_backends_own_version_and_the_processor():
    import importlib

    import keras

    metadata = run_metadata(["experiments/run_tuner.py"])
    backend = keras.backend.backend()
    assert metadata["versions"][backend] == importlib.import_module(backend).__version__ != ""
    assert metadata["machine"].endswith(f", {os.cpu_count()} CPU cores")


def test_the_processor_is_the_first_model_name_of_cpuinfo_else_the_platforms(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9454\n\nprocessor\t: 1\nmodel name\t: other\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 9454"
    cpuinfo.write_text("processor\t: 0\nmodel name\t:\n")
    assert cpu_model(cpuinfo) == (platform.processor() or "an unnamed processor")
    assert cpu_model(tmp_path / "absent") == (platform.processor() or "an unnamed processor")


def test_the_reference_backends_files_lie_in_the_folder_and_the_others_in_subfolders():
    assert backend_folder("results", "tensorflow") == "results"
    assert backend_folder("results", "jax") == os.path.join("results", "jax")
