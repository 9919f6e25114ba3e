"""The benchmarks: their shared machinery, the convolution step, the resamplers, the step variants."""

import json
import sys
from argparse import Namespace

import keras
import pytest
from run_script import STUDIES, run_benchmark, run_experiment

from mnist_vit.errors import BackendError, UsageError

sys.path.insert(0, str(STUDIES))
import harness  # noqa: E402 (a module of the studies' folder, not of the package)
from harness import add_ratio, compare_to_baseline, measure_backends, rows_from_child, time_steps  # noqa: E402

PLAIN = {  # (implementation, data format) of the plain framework's steps on each backend
    "tensorflow": {("plain NHWC", "channels_last")},
    "jax": {("plain NHWC", "channels_last")},
    "torch": {("plain NCHW", "channels_first"), ("plain NCHW, channels-last memory", "channels_first")},
}
KERAS = {("keras", "channels_last"), ("keras", "channels_first")}


def test_time_steps_warms_up_then_times_every_round():
    calls = []
    assert time_steps(lambda: calls.append(1), steps=4, rounds=3) >= 0
    assert len(calls) == 3 + 4 * 3


def test_add_ratio_divides_each_rows_step_by_the_baseline():
    rows = add_ratio([{"ms_per_step": 30.0}, {"ms_per_step": 20.0}], "vs_b", 20.0)
    assert [row["vs_b"] for row in rows] == [1.5, 1.0]


def test_a_child_that_fails_or_prints_no_rows_is_an_error_naming_the_backend(tmp_path):
    for body in ("import sys; sys.exit(3)", "print('no rows')"):
        script = tmp_path / "child.py"
        script.write_text(body)
        with pytest.raises(BackendError, match="the jax measurement failed"):
            rows_from_child(str(script), "jax", [])


def test_a_childs_rows_come_back_and_its_other_lines_pass_through(tmp_path, capsys):
    script = tmp_path / "child.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(STUDIES)!r})\nimport harness\nprint('progress')\n"
        "harness.print_rows([{'a': 1}])"
    )
    assert rows_from_child(str(script), "tensorflow", []) == [{"a": 1}]
    assert capsys.readouterr().out == "progress\n"


def test_an_unwritable_results_folder_is_reported_before_any_backend_runs(tmp_path):
    (tmp_path / "a_file").write_text("")

    class Args:
        results = str(tmp_path / "a_file" / "results.json")
        backends, steps, rounds = ["tensorflow"], 1, 1

    with pytest.raises(UsageError, match="a_file is not writable"):
        next(measure_backends(str(tmp_path / "never_run.py"), Args()))


def test_each_backend_is_compared_with_its_own_fastest_baseline_row(tmp_path, monkeypatch):
    def measured(script, args):
        yield "tensorflow", [{"v": "a", "ms_per_step": 6.0}, {"v": "b", "ms_per_step": 3.0}]
        yield (
            "jax",
            [{"v": "a", "ms_per_step": 9.0}, {"v": "b", "ms_per_step": 12.0}, {"v": "c", "ms_per_step": 4.5}],
        )

    monkeypatch.setattr(harness, "measure_backends", measured)
    args = Namespace(results=str(tmp_path / "compared.json"), steps=1, rounds=1)
    rows = compare_to_baseline("script.py", args, "v", ("a or b", lambda row: row["v"] != "c"), "vs_ab", {})
    assert [row["vs_ab"] for row in rows] == [2.0, 1.0, 1.0, 1.33, 0.5]
    assert json.loads((tmp_path / "compared.json").read_text())["results"] == rows


def test_a_failing_backend_keeps_the_rows_of_the_backends_before_it(tmp_path, monkeypatch):
    def measured(script, args):
        yield "tensorflow", [{"v": "a", "ms_per_step": 2.0}]
        raise BackendError("the jax measurement failed (exit code 1)")

    monkeypatch.setattr(harness, "measure_backends", measured)
    args = Namespace(results=str(tmp_path / "compared.json"), steps=1, rounds=1)
    with pytest.raises(BackendError):
        compare_to_baseline("script.py", args, "v", ("a", lambda row: row["v"] == "a"), "vs_a", {})
    rows = json.loads((tmp_path / "compared.json").read_text())["results"]
    assert rows == [{"v": "a", "ms_per_step": 2.0, "vs_a": 1.0}]


@pytest.mark.slow
def test_the_convolution_benchmark_times_keras_beside_the_plain_framework(tmp_path):
    backend = keras.backend.backend()
    written = run_benchmark("studies/benchmark_convolution.py", tmp_path / "convolution.json", backend)
    rows = {(row["implementation"], row["data_format"]): row for row in written["results"]}
    assert set(rows) == KERAS | PLAIN[backend]
    assert all(row["backend"] == backend and row["ms_per_step"] > 0 for row in rows.values())
    assert min(rows[key]["vs_fastest_plain"] for key in PLAIN[backend]) == 1.0
    assert written["settings"] == {
        "images": 352, "filters": [16, 32], "kernel_size": 5,
        "steps": 1, "rounds": 1, "statistic": "median round",
    }  # fmt: skip


@pytest.mark.slow
def test_the_augmentation_benchmark_times_both_resamplers_on_the_same_transforms(tmp_path):
    backend = keras.backend.backend()
    written = run_benchmark("studies/benchmark_augmentation.py", tmp_path / "augmentation.json", backend)
    rows = {row["implementation"]: row for row in written["results"]}
    assert set(rows) == {"keras affine_transform", "batched_affine_transform"}
    assert rows["keras affine_transform"]["vs_keras"] == 1.0
    for row in rows.values():
        assert row["backend"] == backend and row["ms_per_step"] > 0
        assert row["max_abs_difference"] < 1e-4  # the two resample the same transforms alike


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "column", "variants", "ratio"),
    [
        (
            "studies/benchmark_encoder_layout.py",
            "layout",
            ("Conv-BN-ReLU-MaxPool", "Conv-MaxPool-BN-ReLU"),
            "vs_norm_first",
        ),
        (
            "studies/benchmark_encoder_precision.py",
            "dtype_policy",
            ("float32", "mixed_bfloat16"),
            "vs_float32",
        ),
    ],
)
def test_a_classifier_step_benchmark_times_each_variant_against_the_first(
    tmp_path, script, column, variants, ratio
):
    backend = keras.backend.backend()
    written = run_benchmark(script, tmp_path / "benchmark.json", backend)
    rows = {row[column]: row for row in written["results"]}
    assert set(rows) == set(variants)
    assert rows[variants[0]][ratio] == 1.0
    assert all(row["backend"] == backend and row["ms_per_step"] > 0 for row in rows.values())


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's own settings: timed under torch")
def test_the_torch_settings_benchmark_runs_each_variant_with_its_own_threads(tmp_path, mnist_path):
    results = tmp_path / "torch_settings.json"
    args = ["--variants", "threads 1/1", "eager", "--steps", "2", "--rounds", "1"]
    done = run_experiment(
        "studies/benchmark_torch_settings.py",
        [*args, "--data", mnist_path, "--results", str(results)],
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["variant"]: row for row in json.loads(results.read_text())["results"]}
    assert list(rows) == ["threads 1/1", "eager"]
    assert rows["threads 1/1"]["threads"] == 1 and rows["threads 1/1"]["interop_threads"] == 1
    assert rows["threads 1/1"]["vs_first"] == 1.0
    assert all(row["sequences_per_second"] > 0 and row["graphs_compiled"] == 0 for row in rows.values())
