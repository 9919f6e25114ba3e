"""The README's and findings' tables are what `experiments/update_readme.py` writes from the results."""

import copy
import importlib.util
import json

import pytest
from run_script import EXPERIMENTS, ROOT


def load_update_readme():
    spec = importlib.util.spec_from_file_location("update_readme", EXPERIMENTS / "update_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UPDATE_README = load_update_readme()


def block(text, name):
    return text.split(f"<!-- {name}:start -->\n", 1)[1].split(f"\n<!-- {name}:end -->", 1)[0]


@pytest.mark.parametrize("document", sorted(UPDATE_README.DOCUMENTS))
def test_every_generated_block_matches_the_committed_results_files(document):
    text = (ROOT / document).read_text()
    expected = UPDATE_README.DOCUMENTS[document]()
    assert expected  # the committed results files exist
    for name, content in expected.items():
        assert block(text, name) == content, f"{document} block {name!r}: run experiments/update_readme.py"


def test_another_backends_run_is_a_row_group_compared_with_the_reference():
    reference = UPDATE_README.read("results/sum.json")
    other = copy.deepcopy(reference)
    other["backend"] = "jax"
    rows = [("sum", reference), ("sum", other)]
    agrees = UPDATE_README.render_results(None, rows)
    assert "| sum | Transformer | jax |" in agrees and "| sum | Transformer | tensorflow |" in agrees
    assert (
        "- sum on jax:" in agrees and "every key figure within two stds of the tensorflow reference" in agrees
    )
    assert "1.0x the tensorflow run's wall time" in agrees

    test = other["models"]["transformer"]["test"]
    test["exact_accuracy"] -= 3 * reference["models"]["transformer"]["test"]["exact_accuracy_std"]
    differs = UPDATE_README.render_results(None, rows)
    differing = differs.split("- sum on jax:")[1]
    assert "reference's mean but Transformer exact_accuracy " in differing
    assert f"{test['exact_accuracy']:.4f} ± " in differing and "mse" not in differing
    assert "there is no tensorflow reference" in UPDATE_README.render_results(None, rows[1:])


def test_a_study_is_compared_with_the_reference_run(tmp_path):
    study = UPDATE_README.read(UPDATE_README.CHECKPOINT)
    study["backend"] = "jax"
    for row, seconds in zip(study["per_seed"], (100, 110, 120), strict=True):
        row["train_seconds"] = seconds
    reference = UPDATE_README.read("results/sum.json")["models"]["transformer"]["test"]
    path = tmp_path / "study.json"

    def rendered():
        path.write_text(json.dumps(study))
        return UPDATE_README.render_study_beside_runs(str(path))

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
    fc = UPDATE_README.read("results/findings/checkpoint_sum_fc.json")
    studies = {
        "tensorflow.json": fc,
        "torch.json": {**fc, "backend": "torch"},
        "transformer.json": UPDATE_README.read(UPDATE_README.CHECKPOINT),
    }
    for name, study in studies.items():
        (tmp_path / name).write_text(json.dumps(study))
    paths = [str(tmp_path / name) for name in studies]
    table = UPDATE_README.render_study_beside_runs(*paths[:2])
    assert "| tensorflow | `study_checkpoint.py`, seeds 3, 4, 5 |" in table
    assert "| torch | `study_checkpoint.py`, seeds 3, 4, 5 |" in table
    for backend in ("tensorflow", "torch"):
        assert (
            f"The study on {backend}, seeds 3, 4, 5, against the tensorflow reference run: exact_accuracy"
            in table
        )
    with pytest.raises(ValueError, match="must train one model"):
        UPDATE_README.render_study_beside_runs(paths[0], paths[2])


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
