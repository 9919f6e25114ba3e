"""study_checkpoint.py: the best validation epoch beside the end of the schedule, per seed."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from run_script import on_reference_backend_only, run_experiment

from mnist_vit.model_files import load_task_model
from mnist_vit.training import final_run_dir

pytestmark = on_reference_backend_only()  # subprocesses

EPOCHS = 3
TINY = [
    "--epochs", str(EPOCHS), "--train-sequences", "64", "--validation-sequences", "64",
    "--test-sequences", "50", "--seeds", "2",
]  # fmt: skip


def test_the_study_tests_both_models_of_each_seed(tmp_path, mnist_path):
    study = tmp_path / "study"
    args = [*TINY, "--data", mnist_path, "--out", str(study)]
    result = run_experiment("studies/study_checkpoint.py", args, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((study / "results.json").read_text())
    assert [row["seed"] for row in results["per_seed"]] == [0, 1]
    for row in results["per_seed"]:
        run = Path(final_run_dir(study, "transformer", row["seed"]))
        with open(run / "train" / "history.csv") as f:
            epochs = list(csv.DictReader(f))
        validation = [float(epoch["val_exact_accuracy"]) for epoch in epochs]
        assert row["train_seconds"] == pytest.approx(float(epochs[-1]["elapsed_seconds"]))
        assert row["train_seconds"] > 0
        assert len(validation) == EPOCHS  # the whole schedule ran
        assert row["best_validation"] == pytest.approx(max(validation))
        assert row["last_validation"] == pytest.approx(validation[-1])
        assert validation[row["best_epoch"] - 1] == pytest.approx(max(validation))
        tested = {name: json.loads((run / f"{name}_test.json").read_text()) for name in ("best", "final")}
        assert row["test_best_epoch"] == tested["best"]["exact_accuracy"]
        assert row["test_end_of_schedule"] == tested["final"]["exact_accuracy"]
        model, task = load_task_model(str(run / "train" / "final.keras"))
        assert task.name == "sum" and model.count_params() > 0
    per_seed = [row["test_end_of_schedule"] for row in results["per_seed"]]
    assert results["end_of_schedule"]["exact_accuracy"] == pytest.approx(np.mean(per_seed))
    assert results["end_of_schedule"]["exact_accuracy_std"] == pytest.approx(np.std(per_seed, ddof=1))
    damaged = Path(final_run_dir(study, "transformer", 1)) / "final_test.json"
    damaged.write_text('{"exact_accuracy": 0.9')  # cut off mid-write by something other than the study
    again = run_experiment("studies/study_checkpoint.py", args, timeout=900)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.strip().splitlines()[-1] == (
        f"error: {damaged} is damaged (cannot be read back); delete {damaged} to test again"
    )


def test_another_model_is_studied_in_a_folder_of_its_own(tmp_path, mnist_path):
    result = run_experiment(
        "studies/study_checkpoint.py",
        [*TINY, "--seeds", "1", "--model", "fc", "--data", str(Path(mnist_path).resolve())],
        timeout=900,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    study = tmp_path / "runs" / "checkpoint_sum_fc"  # beside the searched model's runs/checkpoint_sum
    results = json.loads((study / "results.json").read_text())
    assert results["settings"]["model"] == "fc"
    run = Path(final_run_dir(study, "fc", 0))
    tested = json.loads((run / "final_test.json").read_text())
    assert results["per_seed"][0]["test_end_of_schedule"] == tested["exact_accuracy"]
    model, task = load_task_model(str(run / "train" / "final.keras"))
    assert task.name == "sum" and model.name == "sum_fc"


def test_a_model_the_task_does_not_have_is_one_clear_error(mnist_path):
    result = run_experiment(
        "studies/study_checkpoint.py", ["--task", "anchor", "--model", "rnn", "--data", mnist_path]
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "'rnn'" in errors[0] and "transformer, deepsets, fc" in errors[0], (
        result.stderr
    )
    assert "Traceback" not in result.stderr
