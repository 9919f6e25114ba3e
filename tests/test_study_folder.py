"""A study that trains into its folder holds it as the main job holds its run folder (`harness.run_study`)."""

import argparse
import json
import sys

import pytest
from run_script import STUDIES

sys.path.insert(0, str(STUDIES))
from harness import run_study, study_settings  # noqa: E402 (a study's module)

from mnist_vit.errors import RunFolderError  # noqa: E402
from mnist_vit.run_folder import RunFolder  # noqa: E402

BUDGET = ("epochs", "train_sequences")


def study_args(tmp_path, mnist_path, epochs):
    out = tmp_path / "study"
    return argparse.Namespace(
        task="sum", data=mnist_path, out=str(out), results=str(out / "results.json"), epochs=epochs,
        train_sequences=64,
    )  # fmt: skip


def made_by(task, args):
    return study_settings(args, task, BUDGET), {"hyperparameters": {"embed_dim": 8}}


def counting_study(calls):
    def study(task, args, splits):
        calls.append(args.epochs)
        return {"epochs": args.epochs}

    return study


def test_a_rerun_with_another_budget_is_refused_before_the_study_runs(tmp_path, mnist_path):
    calls = []
    run_study(study_args(tmp_path, mnist_path, 1), counting_study(calls), made_by)
    run_study(study_args(tmp_path, mnist_path, 1), counting_study(calls), made_by)  # the same: resumes
    with pytest.raises(RunFolderError, match=r"other settings \(epochs 1 -> 2\); use a new --out, or delete"):
        run_study(study_args(tmp_path, mnist_path, 2), counting_study(calls), made_by)
    assert calls == [1, 1]
    assert json.loads((tmp_path / "study" / "results.json").read_text()) == {"epochs": 1}


def test_other_hyperparameters_are_refused_by_name(tmp_path, mnist_path):
    run_study(study_args(tmp_path, mnist_path, 1), counting_study([]), made_by)

    def wider(task, args):
        return study_settings(args, task, BUDGET), {"hyperparameters": {"embed_dim": 16}}

    with pytest.raises(RunFolderError, match="hyperparameters {'embed_dim': 8} -> {'embed_dim': 16}"):
        run_study(study_args(tmp_path, mnist_path, 1), counting_study([]), wider)


def test_a_folder_in_use_by_another_process_is_refused(tmp_path, mnist_path):
    calls = []
    args = study_args(tmp_path, mnist_path, 1)
    with RunFolder(args.out, {"holder": "another study"}), pytest.raises(RunFolderError, match="is in use"):
        run_study(args, counting_study(calls), made_by)
    assert calls == []
