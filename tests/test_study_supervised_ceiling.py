"""study_supervised_ceiling.py: each encoder taught digit labels, the ceiling of reading digits from sums."""

import json
import re
import sys

import pytest
from run_script import STUDIES, on_reference_backend_only, run_experiment

sys.path.insert(0, str(STUDIES))
from study_supervised_ceiling import ENCODERS, parse_args  # noqa: E402

pytestmark = on_reference_backend_only()  # a study: subprocesses


@pytest.mark.parametrize(
    "options, named",
    [(["--encoders", "huge"], "invalid choice: 'huge'"), (["--seeds", "0"], "--seeds"),
     (["--epochs", "-1"], "--epochs")],
)  # fmt: skip
def test_impossible_options_are_refused_by_name(options, named, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(options)
    assert exit_.value.code == 2 and named in capsys.readouterr().err


def test_the_encoders_differ_only_in_their_conv_blocks_and_the_first_is_the_tasks():
    from mnist_vit.encoder import EncoderConfig

    assert ENCODERS["tasks"] == EncoderConfig().filters
    assert len(set(ENCODERS.values())) == len(ENCODERS)


@pytest.mark.slow
def test_each_encoder_trains_per_seed_and_a_rerun_reuses_the_finished_runs(tmp_path, mnist_path):
    out = tmp_path / "ceiling"
    args = [
        "--encoders", "tasks", "wider", "--seeds", "2", "--epochs", "1", "--train-images", "256",
        "--data", mnist_path, "--out", str(out),
    ]  # fmt: skip
    done = run_experiment("studies/study_supervised_ceiling.py", args, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert list(results["encoders"]) == ["tasks", "wider"] and results["settings"]["seeds"] == [0, 1]
    for name, found in results["encoders"].items():
        assert found["filters"] == list(ENCODERS[name]) and len(found["per_seed"]) == 2
        rows = found["per_seed"]
        assert found["test"]["test_accuracy"] == pytest.approx(sum(r["test_accuracy"] for r in rows) / 2)
        for seed, row in enumerate(rows):
            run = json.loads((out / name / f"seed_{seed}" / "results.json").read_text())["models"]["cnn"]
            assert run["hyperparameters"]["filters"] == list(ENCODERS[name])
            assert run["hyperparameters"]["seed"] == seed and row["test_accuracy"] == run["test"]["accuracy"]
    tasks, wider = (results["encoders"][name]["per_seed"][0]["parameters"] for name in ("tasks", "wider"))
    assert wider > tasks
    again = run_experiment("studies/study_supervised_ceiling.py", args, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("finished earlier, reusing") == 4
    assert json.loads((out / "results.json").read_text())["encoders"] == results["encoders"]


def test_the_findings_table_has_a_row_per_encoder(tmp_path, monkeypatch):
    import tables

    study = {
        "command": "python experiments/studies/study_supervised_ceiling.py", "machine": "x86_64, 2 CPU cores",
        "wall_seconds": 7200.0, "settings": {"seeds": [0, 1]},
        "encoders": {
            "wider": {
                "filters": [32, 64],
                "per_seed": [{"test_accuracy": 0.995, "parameters": 400_000, "train_seconds": 600.0},
                             {"test_accuracy": 0.997, "parameters": 400_000, "train_seconds": 640.0}],
                "test": {"test_accuracy": 0.996, "test_accuracy_std": 0.0014, "train_seconds": 620.0},
            }
        },
    }  # fmt: skip
    (tmp_path / "results" / "findings").mkdir(parents=True)
    (tmp_path / "results" / "findings" / "supervised_ceiling.json").write_text(json.dumps(study))
    monkeypatch.setattr(tables, "EXPERIMENTS", str(tmp_path))
    lines = tables.render_supervised_ceiling(tables.SUPERVISED_CEILING).splitlines()
    assert lines[2] == "| wider | 32, 64 | 0.9960 ± 0.0014 | 0.9950 / 0.9970 | 400,000 | 620 |"
    assert re.search(r"mean ± std over 2 seeds\. .*2\.0 hours in all", lines[-1])
