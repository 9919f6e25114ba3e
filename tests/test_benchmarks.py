"""The encoder step's benchmarks, per backend: Keras beside the plain framework, and the block orders."""

import json
import subprocess
import sys

import keras
import pytest
from run_script import ROOT, script_env

PLAIN = {"tensorflow": {"plain NHWC"}, "jax": {"plain NHWC"}, "torch": {"plain NCHW", "plain channels-last"}}


@pytest.mark.slow
def test_the_convolution_benchmark_times_keras_beside_the_plain_framework(tmp_path):
    backend = keras.backend.backend()
    results = tmp_path / "convolution.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "benchmark_convolution.py"), "--backends", backend,
         "--steps", "1", "--rounds", "1", "--results", str(results)],
        capture_output=True, text=True, timeout=600, env=script_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    written = json.loads(results.read_text())
    rows = {row["implementation"]: row for row in written["results"]}
    assert set(rows) == {"keras"} | PLAIN[backend]
    assert all(row["backend"] == backend and row["ms_per_step"] > 0 for row in rows.values())
    assert min(rows[name]["vs_fastest_plain"] for name in PLAIN[backend]) == 1.0
    assert written["settings"]["images"] == 352


@pytest.mark.slow
def test_the_encoder_layout_benchmark_times_both_block_orders(tmp_path):
    backend = keras.backend.backend()
    results = tmp_path / "encoder_layout.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "benchmark_encoder_layout.py"), "--backends", backend,
         "--steps", "1", "--rounds", "1", "--results", str(results)],
        capture_output=True, text=True, timeout=600, env=script_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["layout"]: row for row in json.loads(results.read_text())["results"]}
    assert set(rows) == {"Conv-MaxPool-BN-ReLU", "Conv-BN-ReLU-MaxPool"}
    assert rows["Conv-BN-ReLU-MaxPool"]["vs_norm_first"] == 1.0
    assert all(row["backend"] == backend and row["ms_per_step"] > 0 for row in rows.values())


def test_the_benchmarks_other_order_has_the_package_encoders_weights_in_another_order():
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        from benchmark_encoder_layout import norm_first_encoder
    finally:
        sys.path.pop(0)
    from mnist_vit.encoder import EncoderConfig, build_encoder

    config = EncoderConfig(augment=False)
    package, other = build_encoder(config), norm_first_encoder(config)
    assert [w.shape for w in package.weights] == [w.shape for w in other.weights]

    def order(model):
        return [layer.name.split("_")[0] for layer in model.layers if layer.name[-2:] == "_0"]

    assert order(package) == ["conv", "pool", "bn", "relu"]
    assert order(other) == ["conv", "bn", "relu", "pool"]
