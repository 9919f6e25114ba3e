"""Data-parallel training on 2 virtual CPU devices matches one device (jax and tensorflow)."""

import json
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
from run_script import ROOT, run_tuner, script_env

from mnist_vit.data_parallel import data_parallel
from mnist_vit.errors import UsageError

# Two virtual CPU devices: XLA's flag on jax; the check script splits TensorFlow's CPU itself.
DEVICE_ENV = {"jax": {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}, "tensorflow": {}}
DISTRIBUTION = {"jax": "DataParallel", "tensorflow": "MirroredStrategy"}
# Relative tolerance of each epoch's training loss. TensorFlow's synchronized batch statistics are
# E[x^2] - E[x]^2 over the replicas, one device's a two-pass variance: the training-mode losses drift
# apart by up to ~2e-3 in 10 steps while the trained models' predictions agree to ~1e-5.
LOSS_TOLERANCE = {"jax": 1e-3, "tensorflow": 3e-3}


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() not in DEVICE_ENV, reason="Keras distributes jax and tensorflow")
def test_data_parallel_on_two_devices_trains_like_one_device(mnist_path):
    backend = keras.backend.backend()
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "data_parallel_check.py"), mnist_path],
        capture_output=True, text=True, timeout=600,
        env=script_env(KERAS_BACKEND=backend, **DEVICE_ENV[backend]),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["devices"] == 2
    assert result["distribution"] == DISTRIBUTION[backend]
    assert result["weight_replicas"] == 2
    assert result["parallel_losses"][-1] < result["parallel_losses"][0]
    for single, parallel in zip(result["single_losses"], result["parallel_losses"], strict=True):
        assert parallel == pytest.approx(single, rel=LOSS_TOLERANCE[backend])
    # The prediction is the most likely sum, an integer, of a model trained for 10 steps whose sum
    # distributions are still nearly flat: where two sums are within float noise of each other the argmax
    # may flip between the runs. The losses above compare the training step by step; here a few of the 64
    # fixed sequences may differ, not more.
    assert result["predictions_differing"] <= 4


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="jax and tensorflow train data-parallel")
def test_data_parallel_on_torch_is_a_clear_error():
    with pytest.raises(UsageError, match="its torch backend trains on one device"):
        with data_parallel():
            pass


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a TensorFlow strategy")
def test_under_a_tensorflow_strategy_training_adapts_and_saved_models_do_not_record_it(tiny_split, tmp_path):
    from model_helpers import tiny_model

    from mnist_vit.data_parallel import ReplicatedAdamW
    from mnist_vit.sequences import SequenceBatches
    from mnist_vit.tasks import get_task
    from mnist_vit.training import make_optimizer

    task = get_task("sum")
    outside = SequenceBatches(tiny_split, task, 8, 4)
    assert outside[0][0]["mask"].dtype == bool
    assert type(make_optimizer(1e-3, 0.0, 10)) is keras.optimizers.AdamW
    with data_parallel() as devices:
        assert devices >= 1
        inside = SequenceBatches(tiny_split, task, 8, 4)
        model = tiny_model("sum", "transformer")
        optimizer = make_optimizer(1e-3, 0.0, 10)
    assert inside[0][0]["mask"].dtype == np.float32
    np.testing.assert_array_equal(inside[0][0]["mask"], outside[0][0]["mask"])
    assert isinstance(optimizer, ReplicatedAdamW)
    assert type(model.distribute_strategy).__name__ == "MirroredStrategy"
    norms = [layer for layer in model.get_layer("encoder").layers if "bn_" in layer.name]
    assert norms and all(layer.synchronized for layer in norms)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert '"synchronized"' not in archive.read("config.json").decode()


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() not in DEVICE_ENV, reason="Keras distributes jax and tensorflow")
def test_the_main_job_runs_data_parallel_with_a_quiet_stderr(tmp_path, mnist_path):
    out = tmp_path / "run"
    done = run_tuner(
        ["--task", "sum", "--trials", "2", "--search-epochs", "1", "--epochs", "1", "--train-sequences", "64",
         "--validation-sequences", "64", "--test-sequences", "50", "--batch-size", "32", "--seeds", "1",
         "--data-parallel", "--data", mnist_path, "--out", str(out)],
        KERAS_BACKEND=keras.backend.backend(), TF_CPP_MIN_LOG_LEVEL="",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "data-parallel training on 1 devices" in done.stdout
    # With the user's default logging, a successful run's stderr holds no native library lines.
    assert done.stderr == ""
    results = json.loads((out / "results.json").read_text())
    assert len(results["search"]["best_trials"]) == 2
    assert set(results["models"]) == {"transformer", "deepsets", "fc"}
