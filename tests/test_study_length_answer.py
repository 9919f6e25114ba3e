"""study_length_answer.py: the best answer from a sequence's length alone, beside the pooling model's."""

import json
import sys

import numpy as np
import pytest
from run_script import STUDIES, on_reference_backend_only, run_experiment

sys.path.insert(0, str(STUDIES))
from harness import answers_without_images  # noqa: E402 (a study's module)
from tables import render_length_answer  # noqa: E402

from mnist_vit.tasks import get_task  # noqa: E402

pytestmark = on_reference_backend_only()  # a study: subprocesses


def test_the_answer_at_each_length_is_the_commonest_target_of_that_length(mnist_path):
    from mnist_vit.data import load_splits
    from mnist_vit.sequences import EVALUATION_BATCH_SIZE, TEST_SEED, SequenceBatches

    task, split = get_task("ascents"), load_splits(mnist_path)["test"]
    found = answers_without_images(task, split, 800, per_length=True)
    batches = SequenceBatches(split, task, 800, EVALUATION_BATCH_SIZE, seed=TEST_SEED)
    targets, lengths = batches.served_targets(), batches.served_lengths()
    for length in np.unique(lengths):
        shares = {value: np.mean(targets[lengths == length] == value) for value in range(10)}
        answer = found["answer"][str(length)]
        assert shares[answer] == max(shares.values())
        assert found["test"]["exact_accuracy_by_length"][str(length)] == pytest.approx(shares[answer])
    assert found["answer"]["1"] == 0.0  # one image has no ascent
    right = [found["answer"][str(length)] == target for length, target in zip(lengths, targets, strict=True)]
    assert found["test"]["exact_accuracy"] == pytest.approx(np.mean(right))
    constant = answers_without_images(task, split, 800)
    assert constant["test"]["exact_accuracy"] < found["test"]["exact_accuracy"]  # the length tells a lot


def results_folder(tmp_path, backends):
    """Committed main-job results of ascents under `tmp_path/results`: `{backend: (sequences, by_length)}`."""
    for backend, (sequences, by_length) in backends.items():
        folder = tmp_path / "results" / ("" if backend == "tensorflow" else backend)
        folder.mkdir(parents=True, exist_ok=True)
        mean = float(np.mean(list(by_length.values())))
        test = {"exact_accuracy": mean, "exact_accuracy_by_length": by_length}
        run = {
            "task": "ascents", "backend": backend, "settings": {"test_sequences": sequences},
            "models": {"deepsets": {"test": test}},
        }  # fmt: skip
        (folder / "ascents.json").write_text(json.dumps(run))


def length_answer_file(tmp_path):
    study = {
        "task": "ascents", "command": "python experiments/studies/study_length_answer.py",
        "settings": {"test_sequences": 100}, "headline": "exact_accuracy",
        "by_length": {"answer": {"1": 0.0, "2": 0.0},
                      "test": {"exact_accuracy": 0.77, "exact_accuracy_by_length": {"1": 1.0, "2": 0.55}}},
    }  # fmt: skip
    path = tmp_path / "results" / "findings" / "length_answer_ascents.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(study))
    return "results/findings/length_answer_ascents.json"


def test_the_table_puts_each_backends_pooling_model_beside_the_length_alone(tmp_path, monkeypatch):
    import tables

    monkeypatch.setattr(tables, "EXPERIMENTS", str(tmp_path))
    runs = {"tensorflow": (100, {"1": 1.0, "2": 0.55}), "torch": (100, {"1": 1.0, "2": 0.45})}
    results_folder(tmp_path, runs)
    lines = render_length_answer(length_answer_file(tmp_path)).splitlines()
    assert lines[0] == "| length | answer | from the length alone | tensorflow | torch |"
    assert lines[3] == "| 2 | 0 | 0.5500 | 0.5500 | 0.4500 |"
    assert lines[4] == "| 1-10 |  | 0.7700 | 0.7750 | 0.7250 |"
    assert "the Deep Sets + positions model's by-length test result" in lines[-1]


def test_a_run_tested_on_other_sequences_is_refused_by_name(tmp_path, monkeypatch):
    import tables

    monkeypatch.setattr(tables, "EXPERIMENTS", str(tmp_path))
    results_folder(tmp_path, {"tensorflow": (100, {"1": 1.0, "2": 0.5}), "jax": (200, {"1": 1.0, "2": 0.5})})
    with pytest.raises(ValueError, match="the jax run of ascents was tested on other sequences"):
        render_length_answer(length_answer_file(tmp_path))


def test_the_script_writes_the_answer_of_every_length(tmp_path, mnist_path):
    results = tmp_path / "length.json"
    args = ["--test-sequences", "300", "--data", mnist_path, "--results", str(results)]
    args += ["--out", str(tmp_path)]
    result = run_experiment("studies/study_length_answer.py", args, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    study = json.loads(results.read_text())
    assert study["task"] == "ascents" and study["settings"] == {"test_sequences": 300}
    assert set(study["by_length"]["answer"]) == {str(length) for length in range(1, 11)}
    assert study["constant_answer"]["test"]["exact_accuracy"] < study["by_length"]["test"]["exact_accuracy"]
