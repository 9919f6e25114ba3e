"""study_histogram.py: a linear read-out of the digit histogram from a Deep Sets model's pooled features."""

import json
import sys

import numpy as np
from model_helpers import random_inputs, tiny_model
from run_script import STUDIES, TINY_ANCHOR, command_options, on_reference_backend_only, run_experiment

sys.path.insert(0, str(STUDIES))
from study_histogram import histograms, linear_readout, pooled_features  # noqa: E402 (a study's module)

pytestmark = on_reference_backend_only()  # a study: subprocesses


def test_histograms_count_each_digit_of_the_real_slots():
    digits = np.array([[3, 3, 7, -1], [0, 9, 9, 9], [5, -1, -1, -1]])
    expected = np.zeros((3, 10), int)
    expected[0, [3, 7]] = [2, 1]
    expected[1, [0, 9]] = [1, 3]
    expected[2, 5] = 1
    np.testing.assert_array_equal(histograms(digits, digits >= 0), expected)


def test_features_that_hold_the_histogram_read_out_exactly_and_noise_does_not():
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 10, (2000, 10))
    mask = np.arange(10)[None] < rng.integers(1, 11, 2000)[:, None]
    truth = histograms(np.where(mask, digits, -1), mask)
    mixing = rng.normal(size=(10, 32))  # the histogram, linearly mixed into 32 features
    held = linear_readout(truth @ mixing, truth)
    assert held == {"exact_histogram": 1.0, "count_accuracy": 1.0}
    noise = linear_readout(rng.normal(size=(2000, 32)), truth)
    assert noise["exact_histogram"] < 0.05 and noise["count_accuracy"] < 0.6


def test_digit_readings_pool_into_a_histogram_of_the_real_slots_only():
    # The distinct task's Deep Sets reads each slot as a digit distribution (no `pooled` layer).
    model = tiny_model("distinct", "deepsets")
    inputs = random_inputs([1, 4, 10])
    features = pooled_features(model, inputs, inputs["mask"])
    assert features.shape == (3, 10) and np.all(features >= 0)
    np.testing.assert_allclose(features.sum(axis=1), [1, 4, 10], rtol=1e-5)  # one reading per real slot


def test_the_study_reads_every_seed_of_a_finished_run(tmp_path, mnist_path):
    run = tmp_path / "run"
    tiny = {**TINY_ANCHOR, "task": "distinct", "seeds": 1}
    done = run_experiment(
        "run_tuner.py", [*command_options(**tiny), "--data", mnist_path, "--out", str(run)], timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    args = ["--task", "distinct", "--run", str(run), "--sequences", "200", "--data", mnist_path]
    result = run_experiment("studies/study_histogram.py", args, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run / "histogram.json").read_text())
    assert results["settings"]["seeds"] == [0] and results["settings"]["model"] == "deepsets"
    for row in results["per_seed"]:
        for name in ("trained", "untrained"):
            assert 0 <= row[name]["exact_histogram"] <= row[name]["count_accuracy"] <= 1
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run_experiment("studies/study_histogram.py", ["--run", str(empty), "--data", mnist_path])
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .endswith("holds no finished deepsets model: run the main job first")
    )
