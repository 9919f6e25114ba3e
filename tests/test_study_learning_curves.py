"""study_learning_curves.py: the test headline against the number of distinct training sequences."""

import json
import re
import sys

import pytest
from run_script import ROOT, STUDIES, on_reference_backend_only, run_experiment

sys.path.insert(0, str(STUDIES))
import study_learning_curves  # noqa: E402 (a study's module)
from harness import committed_hyperparameters, run_study, study_settings  # noqa: E402
from study_learning_curves import BUDGET, constant_answer, fresh_point, made_by, parse_args, point  # noqa: E402
from tables import learning_curve_blocks, render_learning_curves  # noqa: E402

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
    assert last["epochs_trained"] == [default.epochs] * 2  # new sequences every epoch: every epoch trains
    shorter = study_settings(parse_args(["--task", "sum", "--epochs", "3"]), task, BUDGET)
    assert fresh_point(task, "deepsets", shorter, [0, 1]) is None
    assert fresh_point(task, "deepsets", default, list(range(len(committed["per_seed"]) + 1))) is None


@pytest.mark.parametrize("blocked", ["folder", "figure"])
def test_a_figures_folder_it_cannot_write_is_refused_before_any_training(tmp_path, blocked):
    from mnist_vit.errors import UsageError

    folder = tmp_path / "figures"
    if blocked == "folder":
        folder.write_text("a file where the folder goes")
        message = f"figures folder {folder} is not a folder"
    else:
        (folder / "anchor_learning_curve.png").mkdir(parents=True)
        message = f"figure {folder / 'anchor_learning_curve.png'} is a folder"
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_args(["--out", str(tmp_path / "out"), "--figures", str(folder)])
    assert not (tmp_path / "out").exists()


def test_a_point_summarises_the_headline_and_the_tasks_key_metrics_over_seeds():
    rows = [
        {"accuracy": 0.8, "auc": 0.9, "loss": 0.3, "epochs_trained": 8},
        {"accuracy": 0.6, "auc": 0.7, "loss": 0.5, "epochs_trained": 11},
    ]
    made = point(get_task("anchor"), 50, False, rows)
    assert made["per_seed"] == [0.8, 0.6] and made["train_sequences"] == 50 and not made["fresh"]
    assert made["epochs_trained"] == [8, 11]
    assert set(made["test"]) == {"accuracy", "accuracy_std", "auc", "auc_std"}
    assert made["test"]["auc"] == pytest.approx(0.8)
    assert made["test"]["accuracy_std"] == pytest.approx(0.2 / 2**0.5)  # the sample std


@pytest.mark.parametrize("task_name", ["anchor", "sum"])
def test_always_the_most_frequent_answer_scores_its_share_of_the_test_sequences(mnist_path, task_name):
    import numpy as np

    from mnist_vit.data import load_splits
    from mnist_vit.sequences import EVALUATION_BATCH_SIZE, TEST_SEED, SequenceBatches

    task, split = get_task(task_name), load_splits(mnist_path)["test"]
    constant = constant_answer(task, split, 600)
    targets = SequenceBatches(split, task, 600, EVALUATION_BATCH_SIZE, seed=TEST_SEED).served_targets()
    shares = {value: np.mean(targets == value) for value in np.unique(targets)}
    assert shares[constant["answer"]] == max(shares.values())
    assert constant["test"][task.headline] == pytest.approx(max(shares.values()))
    if task_name == "anchor":
        assert constant["test"]["auc"] == 0.5 and constant["answer"] == 0.0  # the digit is absent more often


def curves_file(tmp_path, curves, missing=()):
    """A learning-curve results file of the anchor task with `curves` {model: [(size, fresh, rows)]} and
    `missing` points [(size, model)] still to train."""
    task = get_task("anchor")
    study = {
        "task": "anchor", "command": "python experiments/studies/study_learning_curves.py --task anchor",
        "wall_seconds": 5400.0, "settings": {"seeds": [0, 1]}, "headline": "accuracy",
        "made_by": {"epochs": 26, "patience": 5},
        "missing": [{"train_sequences": size, "model": model} for size, model in missing],
        "constant_answer": {"answer": 0.0, "test": {"accuracy": 0.588, "auc": 0.5}},
        "curves": {
            model: [point(task, size, fresh, [{"epochs_trained": 7, **row} for row in rows])
                    for size, fresh, rows in points]
            for model, points in curves.items()
        },
    }  # fmt: skip
    path = tmp_path / "learning_curves_anchor.json"
    path.write_text(json.dumps(study))
    return str(path)


def test_the_readme_table_has_a_column_per_size_and_a_row_per_model_and_figure(tmp_path):
    seeds = [{"accuracy": 0.8, "auc": 0.9}, {"accuracy": 0.6, "auc": 0.9}]
    perfect = [{"accuracy": 1.0, "auc": 1.0}, {"accuracy": 1.0, "auc": 1.0}]
    points = [(50, False, seeds), (1000, False, perfect), (416000, True, perfect)]
    table = render_learning_curves([curves_file(tmp_path, {"transformer": points, "deepsets": points})])
    figure, lines = table.splitlines()[0], table.splitlines()[2:]
    assert figure == "![anchor: learning curves](figures/anchor_learning_curve.png)"
    assert lines[0] == "| model | test | 50 | 1,000 | 416,000 (new every epoch) |"
    assert lines[2] == "| Transformer | accuracy | 0.700 ± 0.141 | 1.000 | 1.000 |"
    assert lines[3] == "| Transformer | auc | 0.900 | 1.000 | 1.000 |"
    assert lines[4] == "| Transformer | epochs trained | 7 / 7 | 7 / 7 | 7 / 7 |"
    assert [line.split(" | ")[0] for line in lines[5:8]] == ["| Deep Sets"] * 3
    assert "over 2 seeds" in lines[-1] and "(1.5 hours in all)" in lines[-1]
    assert "each run ended once validation had not improved for 5 epochs; the figure above" in lines[-1]
    assert "most frequent answer (0) scores accuracy 0.588, auc 0.500." in lines[-1]


def test_a_study_under_way_shows_the_sizes_every_model_has_done_and_those_still_to_train(tmp_path):
    rows = [{"accuracy": 0.8, "auc": 0.9}, {"accuracy": 0.6, "auc": 0.9}]
    curves = {"transformer": [(50, False, rows), (500, False, rows)], "deepsets": [(50, False, rows)]}
    path = curves_file(
        tmp_path, curves, missing=[(500, "deepsets"), (2000, "transformer"), (2000, "deepsets")]
    )
    table = render_learning_curves([path])
    assert "figures/anchor_learning_curve.png" not in table  # drawn once the grid is complete
    assert table.splitlines()[0] == "| model | test | 50 |"
    assert "not improved for 5 epochs; sizes still to train (the command resumes): 500, 2,000." in table
    begun = curves_file(tmp_path, {"transformer": [(50, False, rows)], "deepsets": []}, [(50, "deepsets")])
    assert "anchor: no size is done yet by `python experiments" in render_learning_curves([begun])


def test_without_a_committed_study_the_readme_gives_the_command_that_begins_one(tmp_path, monkeypatch):
    import tables

    monkeypatch.setattr(tables, "EXPERIMENTS", str(tmp_path))
    block = learning_curve_blocks()["learning-curves"]
    assert block.startswith("No learning-curve study is committed yet: `python experiments/studies/")
    (tmp_path / "results" / "findings").mkdir(parents=True)
    rows = [{"accuracy": 0.8, "auc": 0.9}]
    study = curves_file(tmp_path / "results" / "findings", {"transformer": [(50, False, rows)]})
    assert "| Transformer | accuracy | 0.800 |" in learning_curve_blocks()["learning-curves"], study


def test_a_model_whose_points_lie_elsewhere_is_refused_by_name(tmp_path):
    rows = [{"accuracy": 0.5, "auc": 0.5}]
    path = curves_file(tmp_path, {"transformer": [(50, False, rows)], "deepsets": [(100, False, rows)]})
    with pytest.raises(ValueError, match="the deepsets's points are not at the other models' sizes"):
        render_learning_curves([path])


def test_another_backend_publishes_beside_the_reference_and_ends_on_its_own_main_job(monkeypatch):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    args = parse_args(["--task", "anchor", "--publish"])
    findings = ROOT / "experiments" / "results" / "findings"
    assert args.results == str(findings / "jax" / "learning_curves_anchor.json")
    assert args.figures == str(ROOT / "figures" / "jax")
    task = get_task("anchor")
    jax_run = json.loads((ROOT / "experiments" / "results" / "jax" / "anchor.json").read_text())
    last = fresh_point(task, "transformer", study_settings(args, task, BUDGET), [0, 1])
    assert last["per_seed"] == [row["accuracy"] for row in jax_run["models"]["transformer"]["per_seed"][:2]]


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
    assert 0 < results["constant_answer"]["test"]["exact_accuracy"] < 1  # the dashed line of the figure
    assert [row["epochs_trained"] for row in results["runs"]] == [1] * 4
    assert (figures / "sum_learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tested = out / "pool_3" / "final" / "deepsets" / "seed_1" / "test.json"
    before = tested.stat().st_mtime_ns
    again = run_experiment("studies/study_learning_curves.py", args, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert tested.stat().st_mtime_ns == before and "carried over from" in again.stdout
    assert json.loads((out / "results.json").read_text())["curves"] == results["curves"]
    longer = run_experiment("studies/study_learning_curves.py", [*args, "--epochs", "2"], timeout=900)
    assert longer.returncode == 2 and tested.stat().st_mtime_ns == before
    assert longer.stderr.strip().splitlines() == [
        f"error: run folder {out} was made with other settings (epochs 1 -> 2); use a new --out, or delete "
        f"{out} to start the study again"
    ]
    assert json.loads((out / "results.json").read_text())["curves"] == results["curves"]


class Stop(Exception):
    """Stands for the machine going away in the middle of a study."""


def fake_training(calls, stop_at=None):
    """A `train_and_test` that trains nothing: the figures follow the pool size and seed; counts its calls
    in `calls` and raises `Stop` at call number `stop_at`."""

    def train_and_test(task, model_name, hyperparameters, splits, settings, seed):
        calls.append((settings.train_pool, model_name, seed))
        if len(calls) == stop_at:
            raise Stop
        value = 0.5 + settings.train_pool / 1000 + seed / 100
        return {"accuracy": value, "auc": value, "loss": 1 - value}

    return train_and_test


def grid_args(tmp_path, out, mnist_path, *more):
    return parse_args([
        "--task", "anchor", "--sizes", "40", "3", "--models", "deepsets", "transformer", "--seeds", "2",
        "--epochs", "1", "--test-sequences", "50", "--data", mnist_path, "--out", str(tmp_path / out),
        "--results", str(tmp_path / "results.json"), "--figures", str(tmp_path / "figures"), *more,
    ])  # fmt: skip


def test_the_results_file_alone_resumes_the_study_on_a_machine_without_its_run_folder(
    tmp_path, mnist_path, monkeypatch
):
    calls = []
    monkeypatch.setattr(study_learning_curves, "train_and_test", fake_training(calls, stop_at=4))
    with pytest.raises(Stop):
        run_study(grid_args(tmp_path, "first", mnist_path), study_learning_curves.study, made_by)
    partial = json.loads((tmp_path / "results.json").read_text())
    assert [(row["train_sequences"], row["model"], row["seed"]) for row in partial["runs"]] == [
        (3, "deepsets", 0), (3, "deepsets", 1), (3, "transformer", 0),
    ]  # fmt: skip
    assert [point["train_sequences"] for point in partial["curves"]["deepsets"]] == [3]
    assert partial["curves"]["transformer"] == []
    assert (
        partial["missing"][0] == {"train_sequences": 3, "model": "transformer"}
        and len(partial["missing"]) == 3
    )

    calls.clear()
    monkeypatch.setattr(study_learning_curves, "train_and_test", fake_training(calls))
    results = run_study(grid_args(tmp_path, "second", mnist_path), study_learning_curves.study, made_by)
    assert calls == [(3, "transformer", 1), (40, "deepsets", 0), (40, "deepsets", 1), (40, "transformer", 0),
                     (40, "transformer", 1)]  # fmt: skip
    assert results["missing"] == [] and len(results["runs"]) == 8 and results["processes"] == 2
    assert results["wall_seconds"] >= partial["wall_seconds"]
    for name in ("deepsets", "transformer"):
        assert [p["per_seed"] for p in results["curves"][name]] == [[0.503, 0.513], [0.54, 0.55]]
    assert json.loads((tmp_path / "results.json").read_text()) == results


def test_a_results_file_made_otherwise_is_refused_by_name_before_any_training(
    tmp_path, mnist_path, monkeypatch
):
    from mnist_vit.errors import UsageError

    calls = []
    monkeypatch.setattr(study_learning_curves, "train_and_test", fake_training(calls))
    run_study(grid_args(tmp_path, "first", mnist_path), study_learning_curves.study, made_by)
    made = calls[:]
    with pytest.raises(
        UsageError, match=re.escape("was made with other settings (epochs 1 -> 2); use another")
    ):
        run_study(
            grid_args(tmp_path, "second", mnist_path, "--epochs", "2"), study_learning_curves.study, made_by
        )
    with pytest.raises(UsageError, match=re.escape("was made with other settings (patience 5 -> 2)")):
        run_study(
            grid_args(tmp_path, "fourth", mnist_path, "--patience", "2"), study_learning_curves.study, made_by
        )
    results = tmp_path / "results.json"
    written = json.loads(results.read_text())
    for crafted, problem in [
        ({"made_by": None}, "holds no record"),
        ({"runs": [{"seed": "0"}]}, "damaged run"),
    ]:
        results.write_text(json.dumps({**written, **crafted}))
        with pytest.raises(UsageError, match=problem):
            run_study(grid_args(tmp_path, "third", mnist_path), study_learning_curves.study, made_by)
    assert calls == made
