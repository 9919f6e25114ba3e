"""study_look_back.py: where the ascents Transformer looks, and how well it reads digits."""

import json
import sys

import keras
import numpy as np
import pytest
from model_helpers import tiny_model
from run_script import STUDIES, on_reference_backend_only, run_experiment

sys.path.insert(0, str(STUDIES))
from study_look_back import LOOK_BACK_LAYER, look_shares  # noqa: E402 (a study's module)

pytestmark = on_reference_backend_only()  # a study: subprocesses


def test_shares_split_each_later_slot_between_the_slot_before_the_sink_and_farther_back():
    weights = np.array(
        [
            [0.0, 0.0, 0.0, 1.0],  # the first slot has only the sink
            [0.8, 0.0, 0.0, 0.2],
            [0.1, 0.6, 0.0, 0.3],
        ]
    )
    shares = look_shares(weights)
    assert shares == pytest.approx({"previous": 0.7, "sink": 0.25, "farther": 0.05})


def looking_model(distance_scores, sink_score):
    """A tiny ascents Transformer whose look-back scores are set."""
    model = tiny_model("ascents", "transformer")
    layer = model.get_layer(LOOK_BACK_LAYER)
    layer.distance_scores.assign(np.asarray(distance_scores, dtype="float32"))
    layer.sink_score.assign(sink_score)
    return model


def test_the_layer_weights_read_as_shares():
    model = looking_model([30.0, 0.0] + [-30.0] * 7, -30.0)
    weights = model.get_layer(LOOK_BACK_LAYER).attention(np.ones((1, 10), dtype=bool))
    shares = look_shares(keras.ops.convert_to_numpy(weights)[0])
    assert shares["previous"] == pytest.approx(1.0, abs=1e-6) and shares["sink"] < 1e-6
    model = looking_model([-30.0] * 9, 30.0)
    weights = model.get_layer(LOOK_BACK_LAYER).attention(np.ones((1, 10), dtype=bool))
    assert look_shares(keras.ops.convert_to_numpy(weights)[0])["sink"] == pytest.approx(1.0, abs=1e-6)


def test_the_study_reads_every_seed_of_a_run_folder(tmp_path, mnist_path):
    run = tmp_path / "run"
    for seed, score in ((0, 30.0), (2, -30.0)):  # seed 0 looks at the slot before, seed 2 farther back
        folder = run / "final" / "transformer" / f"seed_{seed}" / "train"
        folder.mkdir(parents=True)
        looking_model([score, -score] + [-30.0] * 7, -30.0).save(folder / "final.keras")
    args = ["--run", str(run), "--sequences", "200", "--data", mnist_path]
    result = run_experiment("studies/study_look_back.py", args, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run / "look_back.json").read_text())
    assert results["settings"]["seeds"] == [0, 2]
    first, second = results["per_seed"]
    assert first["previous"] > 0.99
    # Seed 2's second slot has no slot two back: it splits between the slot before and the sink.
    assert second["previous"] == pytest.approx(0.5 / 9, abs=1e-4)
    assert second["farther"] == pytest.approx(8 / 9)
    assert 0 <= first["digit_reading_accuracy"] <= 1
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run_experiment("studies/study_look_back.py", ["--run", str(empty), "--data", mnist_path])
    assert refused.returncode == 2
    last_line = refused.stderr.strip().splitlines()[-1]
    assert last_line.endswith("holds no finished transformer model: run the main job first")
