"""study_digit_reading.py: how well a sum model reads each digit, and at long lengths, under each change."""

import json
import sys

import pytest
from run_script import STUDIES, on_reference_backend_only, run_experiment

sys.path.insert(0, str(STUDIES))
import study_digit_reading  # noqa: E402 (a study's module)
from study_digit_reading import made_by, parse_args  # noqa: E402
from tables import render_digit_reading  # noqa: E402

from mnist_vit.errors import UsageError  # noqa: E402

pytestmark = on_reference_backend_only()  # a study: subprocesses


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--task", "anchor"], "task anchor has no digit probe; the study takes sum"),
        (["--model", "fc"], "the fc model takes only lengths 1..10"),
    ],
)
def test_a_task_or_model_it_cannot_measure_is_refused_by_name(argv, fragment):
    with pytest.raises(UsageError, match=fragment):
        parse_args(argv)


def test_a_variant_decides_its_own_runs_so_adding_one_keeps_the_others(monkeypatch, tmp_path):
    from mnist_vit.errors import RunFolderError
    from mnist_vit.tasks import get_task

    task, args = get_task("sum"), parse_args(["--epochs", "1"])
    _, before = made_by(task, args)
    with study_digit_reading.variant_folder(str(tmp_path), "wider_encoder"):
        pass
    monkeypatch.setitem(study_digit_reading.VARIANTS, "deeper", study_digit_reading.Variant({"filters": [8]}))
    assert made_by(task, args)[1] == before
    wider = study_digit_reading.Variant({"filters": [48, 96]})
    monkeypatch.setitem(study_digit_reading.VARIANTS, "wider_encoder", wider)
    with (
        pytest.raises(RunFolderError, match=r"wider_encoder was made with other settings \(changes"),
        study_digit_reading.variant_folder(str(tmp_path), "wider_encoder"),
    ):
        pass


def test_a_tiny_study_applies_each_change_and_reports_p_and_long_lengths(tmp_path, mnist_path):
    import keras

    out = tmp_path / "reading"
    args = [
        "--variants", "searched", "wider_encoder", "twice_the_epochs", "--seeds", "1", "--epochs", "1",
        "--train-sequences", "64", "--validation-sequences", "32", "--test-sequences", "50",
        "--long-sequences", "8", "--data", mnist_path, "--out", str(out),
    ]  # fmt: skip
    done = run_experiment("studies/study_digit_reading.py", args, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    variants = results["variants"]
    assert list(variants) == ["searched", "wider_encoder", "twice_the_epochs"]
    assert [variants[name]["epochs"] for name in variants] == [1, 1, 2]
    for variant in variants.values():
        (row,) = variant["per_seed"]
        assert 0 <= row["digit_probe_accuracy"] <= 1
        assert set(row["exact_accuracy_at_length"]) == {"20", "50", "100"}
        p = variant["test"]["digit_probe_accuracy"]
        assert variant["reader_limit"]["50"] == pytest.approx(p**50)

    def widest_conv(name):
        run = out / name / "final" / "transformer" / "seed_0"
        model = keras.saving.load_model(run / "train" / "final.keras")
        encoder = model.get_layer("encoder")
        return max(layer.filters for layer in encoder.layers if isinstance(layer, keras.layers.Conv2D))

    assert widest_conv("searched") == 32 and widest_conv("wider_encoder") == 64
    cached = out / "searched" / "final" / "transformer" / "seed_0" / "at_lengths.json"
    before = cached.stat().st_mtime_ns
    again = run_experiment("studies/study_digit_reading.py", args, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert cached.stat().st_mtime_ns == before
    assert json.loads((out / "results.json").read_text())["variants"] == variants
    rows = render_digit_reading(str(out / "results.json")).splitlines()[2:5]
    changes = [["| searched", "nothing"], ["| wider encoder", "filters [32, 64]"]]
    assert [row.split(" | ")[:2] for row in rows] == [*changes, ["| twice the epochs", "2 epochs"]]


def test_the_findings_table_gives_each_variant_p_its_long_lengths_and_what_p_allows(tmp_path):
    at_length = {"20": 0.9, "50": 0.8, "100": 0.6}
    test = {
        "digit_probe_accuracy": 0.995, "digit_probe_accuracy_std": 0.001, "exact_accuracy": 0.97,
        "exact_accuracy_std": 0.002, "exact_accuracy_at_length": at_length,
        "exact_accuracy_at_length_std": {"20": 0.01, "50": 0.02, "100": 0.03}, "train_seconds": 412.4,
    }  # fmt: skip
    limit = {length: 0.995 ** int(length) for length in at_length}
    wider = {"changes": {"embed_dim": 128}, "epochs": 26, "test": test, "reader_limit": limit}
    study = {
        "headline": "exact_accuracy", "command": "python experiments/studies/study_digit_reading.py",
        "machine": "x86_64, 2 CPU cores", "wall_seconds": 5400.0,
        "settings": {"model": "transformer", "seeds": [0, 1], "epochs": 26, "long_sequences": 1000,
                     "train_sequences_per_epoch": 16000},
        "variants": {"wider_embedding": wider},
    }  # fmt: skip
    path = tmp_path / "digit_reading_sum.json"
    path.write_text(json.dumps(study))
    lines = render_digit_reading(str(path)).splitlines()
    assert lines[0].startswith("| variant | what it changes | p (digit probe) | exact accuracy, lengths 1-10")
    assert lines[2] == (
        "| wider embedding | embed_dim 128 | 0.9950 ± 0.0010 | 0.970 ± 0.002 | 0.900 ± 0.010 (0.905) "
        "| 0.800 ± 0.020 (0.778) | 0.600 ± 0.030 (0.606) | 412 |"
    )
    assert "over 2 seeds" in lines[-1] and "1.5 hours in all" in lines[-1]
