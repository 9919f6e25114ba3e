"""Data-parallel training (jax, Keras's DataParallel) on 2 virtual CPU devices matches one device."""

import importlib.util
import json
import subprocess
import sys

import keras
import pytest
from run_script import ROOT, script_env

from mnist_vit.data_parallel import use_data_parallel
from mnist_vit.errors import UsageError


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="runs once, in the jax session of the suite")
def test_data_parallel_on_two_devices_trains_like_one_device(mnist_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "data_parallel_check.py"), mnist_path],
        capture_output=True, text=True, timeout=600,
        env=script_env(KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["devices"] == 2
    assert result["distribution"] == "DataParallel"
    assert result["weight_replicas"] == 2
    assert result["parallel_losses"][-1] < result["parallel_losses"][0]
    for single, parallel in zip(result["single_losses"], result["parallel_losses"], strict=True):
        assert parallel == pytest.approx(single, rel=1e-3)
    assert result["max_prediction_difference"] <= 1e-3 * max(1.0, result["prediction_scale"])


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="on jax the distribution is allowed")
def test_data_parallel_on_another_backend_is_a_clear_error():
    with pytest.raises(UsageError, match="KERAS_BACKEND=jax"):
        use_data_parallel()
