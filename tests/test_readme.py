"""The README's and docs' tables are what `experiments/update_readme.py` writes from the results files."""

import copy
import json
import shutil
import subprocess
import sys

import pytest
from run_script import EXPERIMENTS, ROOT, STUDIES, on_reference_backend_only, script_env

from mnist_vit.results_table import read_results, render_results

sys.path.insert(0, str(STUDIES))
import tables  # noqa: E402 (a module of the studies' folder, not of the package)

DOCUMENTS = ("README.md", "docs/performance.md", "docs/findings.md")


def check(root):
    """Runs `update_readme.py --check` in the checkout `root`; returns the finished process."""
    return subprocess.run(
        [sys.executable, str(root / "experiments" / "update_readme.py"), "--check"],
        capture_output=True, text=True, timeout=300, env=script_env(),
    )  # fmt: skip


def once(test):
    """`test`, marked slow and run on the reference backend's pass only: the documents are one."""
    for mark in on_reference_backend_only():
        test = mark(test)
    return test


@once
def test_every_generated_block_matches_the_committed_results_files():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


@once
def test_check_names_a_block_that_is_out_of_date_and_changes_nothing(tmp_path):
    copy_root = tmp_path / "checkout"
    shutil.copytree(EXPERIMENTS, copy_root / "experiments", ignore=shutil.ignore_patterns("__pycache__"))
    for document in DOCUMENTS:
        (copy_root / document).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / document, copy_root / document)
    readme = copy_root / "README.md"
    stale = readme.read_text().replace(
        "| sum | Transformer | tensorflow |", "| sum | Transformer | typed |", 1
    )
    assert stale != readme.read_text()
    readme.write_text(stale)
    result = check(copy_root)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: README.md block 'results': out of date with experiments/results/; run "
        "python experiments/update_readme.py"
    ]
    assert readme.read_text() == stale


def test_another_backends_run_is_a_row_group_compared_with_the_reference():
    reference = read_results(EXPERIMENTS / "results" / "sum.json")
    other = copy.deepcopy(reference)
    other["backend"] = "jax"
    rows = [("sum", reference), ("sum", other)]
    agrees = render_results(None, rows)
    assert "| sum | Transformer | jax |" in agrees and "| sum | Transformer | tensorflow |" in agrees
    assert (
        "- sum on jax:" in agrees and "every key figure within two stds of the tensorflow reference" in agrees
    )
    assert "1.0x the tensorflow run's wall time" in agrees
    assert "then 19 epochs per model, " in agrees  # every epoch trained
    other["settings"]["patience"] = 4
    stopped = render_results(None, rows).split("- sum on jax:")[1]
    assert "then 19 epochs per model (ending after 4 without a better validation score), " in stopped

    test = other["models"]["transformer"]["test"]
    test["exact_accuracy"] -= 3 * reference["models"]["transformer"]["test"]["exact_accuracy_std"]
    differs = render_results(None, rows)
    differing = differs.split("- sum on jax:")[1]
    assert "reference's mean but Transformer exact_accuracy " in differing
    assert f"{test['exact_accuracy']:.4f} ± " in differing and "mse" not in differing
    assert "there is no tensorflow reference" in render_results(None, rows[1:])


def test_a_run_of_fewer_seeds_is_timed_against_one_seed_of_the_reference():
    reference = read_results(EXPERIMENTS / "results" / "sum.json")
    other = copy.deepcopy(reference)
    other["backend"] = "jax"
    for entry in other["models"].values():
        entry["test"]["train_seconds"] *= 2
    assert "1.0x the tensorflow run's wall time" in render_results(None, [("sum", reference), ("sum", other)])
    other["settings"]["seeds"] = 1  # a third of the training in the same wall time would hide the slowdown
    line = render_results(None, [("sum", reference), ("sum", other)]).split("- sum on jax:")[1]
    assert "2.0x the tensorflow run's training time per seed" in line.splitlines()[0]


def test_a_reference_whose_seeds_all_agree_is_met_only_by_its_own_figure():
    reference = read_results(EXPERIMENTS / "results" / "sum.json")
    reference["models"]["deepsets"]["test"].update(exact_accuracy=0.97, exact_accuracy_std=0.0)
    other = copy.deepcopy(reference)
    other["backend"], other["settings"]["seeds"] = "torch", 1
    other["models"]["deepsets"]["test"]["exact_accuracy"] = 0.9699
    line = render_results(None, [("sum", reference), ("sum", other)]).split("- sum on torch:")[1]
    assert "but Deep Sets exact_accuracy 0.9699 against 0.9700 ± 0" in line.splitlines()[0]

    reference["settings"]["seeds"] = 1
    line = render_results(None, [("sum", reference), ("sum", other)]).split("- sum on torch:")[1]
    assert "the tensorflow reference has one seed, so no spread to compare with" in line.splitlines()[0]
    assert "within two stds" not in line.splitlines()[0]


def test_a_study_is_compared_with_the_reference_run(tmp_path):
    study = tables.read(tables.CHECKPOINT)
    study["backend"] = "jax"
    for row, seconds in zip(study["per_seed"], (100, 110, 120), strict=True):
        row["train_seconds"] = seconds
    reference = read_results(EXPERIMENTS / "results" / "sum.json")["models"]["transformer"]["test"]
    path = tmp_path / "study.json"

    def rendered():
        path.write_text(json.dumps(study))
        return tables.render_study_beside_runs(str(path))

    agrees = rendered()
    assert "| jax | `study_checkpoint.py`, seeds 0, 1, 2 |" in agrees and "| 110 ± 10 |" in agrees
    per_seed = " / ".join(f"{row['test_end_of_schedule']:.4f}" for row in study["per_seed"])
    assert f"| {per_seed} |" in agrees
    assert "| tensorflow | the default main job, seeds 0, 1, 2 |" in agrees
    assert "`experiments/results/sum.json`" in agrees
    assert "exact_accuracy" in agrees and "differs" not in agrees
    three_stds_lower = reference["exact_accuracy"] - 3 * reference["exact_accuracy_std"]
    study["end_of_schedule"]["exact_accuracy"] = three_stds_lower
    differs = rendered().split("against the tensorflow reference run:")[1]
    assert "exact_accuracy" in differs.split(";")[0] and "differs" in differs.split(";")[0]
    assert "mse" in differs.split(";")[1] and "agrees" in differs.split(";")[1]


def test_studies_of_one_model_share_a_table_and_of_two_models_are_refused(tmp_path):
    fc = tables.read("results/findings/checkpoint_sum_fc.json")
    studies = {
        "tensorflow.json": fc,
        "torch.json": {**fc, "backend": "torch"},
        "transformer.json": tables.read(tables.CHECKPOINT),
    }
    for name, study in studies.items():
        (tmp_path / name).write_text(json.dumps(study))
    paths = [str(tmp_path / name) for name in studies]
    table = tables.render_study_beside_runs(*paths[:2])
    assert "| tensorflow | `study_checkpoint.py`, seeds 3, 4, 5 |" in table
    assert "| torch | `study_checkpoint.py`, seeds 3, 4, 5 |" in table
    for backend in ("tensorflow", "torch"):
        assert (
            f"The study on {backend}, seeds 3, 4, 5, against the tensorflow reference run: exact_accuracy"
            in table
        )
    with pytest.raises(ValueError, match="must train one model"):
        tables.render_study_beside_runs(paths[0], paths[2])


def test_the_readmes_library_call_names_the_real_function_and_settings():
    import ast
    import dataclasses

    code = (ROOT / "README.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    calls = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)]
    namespace = {}
    exec("\n".join(line for line in code.splitlines() if line.startswith("from ")), namespace)
    assert callable(namespace["run_experiment"])
    fields = {field.name for field in dataclasses.fields(namespace["Settings"])}
    settings_call = next(call for call in calls if getattr(call.func, "id", None) == "Settings")
    assert {keyword.arg for keyword in settings_call.keywords} <= fields
    assert len([line for line in code.splitlines() if line.strip()]) == 3


def test_the_answer_pairs_attention_and_pooling_seed_by_seed():
    from mnist_vit.results_table import answer_row
    from mnist_vit.tasks import get_task

    def run(attention, pooling):
        models = {"transformer": attention, "deepsets": pooling, "fc": [0.2, 0.3, 0.25]}
        return {
            "models": {
                name: {
                    "test": {"exact_accuracy": sum(values) / 3, "exact_accuracy_std": 0.01},
                    "per_seed": [{"exact_accuracy": value} for value in values],
                }
                for name, values in models.items()
            },
            "settings": {"seeds": 3},
        }

    sum_task = get_task("sum")
    # Seed by seed attention is ahead by 0.02, 0.03, 0.025: beyond twice the differences' spread.
    ahead = answer_row(sum_task, run([0.92, 0.95, 0.93], [0.90, 0.92, 0.905]))
    assert ahead["difference"] == "+0.0250 ± 0.0050" and ahead["verdict"] == "yes: attention ahead"
    tie = answer_row(sum_task, run([0.92, 0.95, 0.93], [0.93, 0.94, 0.93]))
    assert tie["difference"] == "+0.0000 ± 0.0100" and tie["verdict"] == "no: a tie"
    behind = answer_row(sum_task, run([0.90, 0.92, 0.905], [0.92, 0.95, 0.93]))
    assert behind["verdict"] == "yes: pooling ahead"
    assert ahead["positions"] == "none" and answer_row(get_task("ascents"), None)["positions"] == ""
    without_pooling = run([0.92, 0.95, 0.93], [0.9, 0.9, 0.9])
    del without_pooling["models"]["deepsets"]
    row = answer_row(sum_task, without_pooling)
    assert row["pooling"] == "not trained" and row["verdict"] == "n/a"
    assert "--task distinct --publish" in answer_row(get_task("distinct"), None)["attention"]


def test_an_order_task_names_its_models_with_positions():
    from mnist_vit.results_table import answer_row
    from mnist_vit.tasks import get_task

    per_seed = [{"exact_accuracy": 0.5}]
    run = {
        "models": {
            name: {"test": {"exact_accuracy": 0.5}, "per_seed": per_seed}
            for name in ("transformer", "deepsets", "fc")
        },
        "settings": {"seeds": 1},
    }
    row = answer_row(get_task("ascents"), run)
    assert row["positions"] == "transformer, deepsets"
    assert row["difference"] == "n/a"  # one seed: no spread to judge a difference by
    assert row["pooling"] == "0.5000"
    for entry in run["models"].values():  # three seeds that all gave one figure
        entry["test"]["exact_accuracy_std"], entry["per_seed"] = 0.0, per_seed * 3
    run["settings"]["seeds"] = 3
    assert answer_row(get_task("ascents"), run)["pooling"] == "0.5000 ± 0"
