"""The convolution benchmark: Keras's step beside the plain framework's, in one run per backend."""

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
