"""study_learning_curves.py: the test headline against the number of distinct training sequences."""

import json
import sys

import pytest
from run_script import ROOT, STUDIES, on_reference_backend_only, run_experiment

sys.path.insert(0, str(STUDIES))
from harness import committed_hyperparameters, study_settings  # noqa: E402 (a study's module)
from study_learning_curves import BUDGET, fresh_point, parse_args  # noqa: E402

from mnist_vit.tasks import get_task  # noqa: E402

pytestmark = on_reference_backend_only()  # a study: subprocesses

SUM_RESULTS = ROOT / "experiments" / "results" / "sum.json"


def test_the_main_jobs_committed_run_is_the_last_point_only_where_its_settings_match():
    task = get_task("sum")
    committed = json.loads(SUM_RESULTS.read_text())["models"]["deepsets"]
    default = study_settings(parse_args(["--task", "sum"]), task, BUDGET)
    last = fresh_point(task, "deepsets", default, [0, 1])
    assert last["fresh"] and last["train_sequences"] == default.epochs * default.train_sequences
    assert last["per_seed"] == [row["exact_accuracy"] for row in committed["per_seed"][:2]]
    shorter = study_settings(parse_args(["--task", "sum", "--epochs", "3"]), task, BUDGET)
    assert fresh_point(task, "deepsets", shorter, [0, 1]) is None
    assert fresh_point(task, "deepsets", default, list(range(len(committed["per_seed"]) + 1))) is None


def test_the_hyperparameters_are_the_committed_searched_ones():
    committed = json.loads(SUM_RESULTS.read_text())["models"]["transformer"]["hyperparameters"]
    found = committed_hyperparameters(get_task("sum")).to_dict()
    searched = {
        key: value for key, value in committed.items() if key not in ("epochs", "train_sequences_per_epoch")
    }
    assert searched and {key: found[key] for key in searched} == searched


@pytest.mark.slow
def test_a_tiny_grid_trains_each_point_resumes_and_draws_its_figure(tmp_path, mnist_path):
    out, figures = tmp_path / "curves", tmp_path / "figures"
    args = [
        "--task", "sum", "--sizes", "40", "3", "--models", "deepsets", "--seeds", "2", "--epochs", "1",
        "--train-sequences", "64", "--validation-sequences", "32", "--test-sequences", "50",
        "--data", mnist_path, "--out", str(out), "--figures", str(figures),
    ]  # fmt: skip
    done = run_experiment("studies/study_learning_curves.py", args, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    points = results["curves"]["deepsets"]
    assert [p["train_sequences"] for p in points] == [3, 40]  # sorted; no fresh point (not the preset)
    assert all(not p["fresh"] and len(p["per_seed"]) == 2 for p in points)
    for p in points:
        assert 0 <= p["test"]["exact_accuracy"] <= 1
    assert (figures / "sum_learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tested = out / "pool_3" / "final" / "deepsets" / "seed_1" / "test.json"
    before = tested.stat().st_mtime_ns
    again = run_experiment("studies/study_learning_curves.py", args, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert tested.stat().st_mtime_ns == before and "finished earlier" in again.stdout
    assert json.loads((out / "results.json").read_text())["curves"] == results["curves"]
