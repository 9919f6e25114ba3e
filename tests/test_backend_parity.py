"""Models saved under this backend give the same predictions under every other installed backend.

CI runs the suite once per backend, so every ordered pair of tensorflow, jax
and torch is checked.
"""

import subprocess
import sys

import keras
import numpy as np
import pytest
from backend_parity import sequence_digest
from model_helpers import random_inputs, tiny_model
from run_script import ROOT, script_env

from mnist_vit.backends import installed_backends

pytestmark = pytest.mark.slow  # subprocesses

OTHER_BACKENDS = [name for name in installed_backends() if name != keras.backend.backend()]
MODELS = {
    "sum_transformer": (lambda: tiny_model("sum", "transformer", augment=True), False),
    "sum_deepsets": (lambda: tiny_model("sum", "deepsets"), False),
    "sum_fc": (lambda: tiny_model("sum", "fc"), False),
    "anchor_transformer": (lambda: tiny_model("anchor", "transformer"), True),
    "anchor_fc": (lambda: tiny_model("anchor", "fc"), True),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Every model kind saved under this backend, with inputs and this backend's predictions."""
    folder = tmp_path_factory.mktemp("parity")
    expected = {}
    for name, (build, anchor) in MODELS.items():
        keras.utils.set_random_seed(0)
        model = build()
        inputs = random_inputs([1, 4, 10], anchor=anchor, seed=3)
        np.savez(folder / f"inputs_{name}.npz", **inputs)
        model.save(folder / f"{name}.keras")
        expected[name] = model.predict(inputs, verbose=0)
    return folder, expected


@pytest.mark.skipif(not OTHER_BACKENDS, reason="no other Keras backend installed")
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_saved_models_and_fixed_sequences_match_on_other_backend(saved, mnist_path, backend):
    folder, expected = saved
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "backend_parity.py"), str(folder), mnist_path],
        capture_output=True, text=True, timeout=600, env=script_env(KERAS_BACKEND=backend),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for name, predictions in expected.items():
        other = np.load(folder / f"predictions_{name}_{backend}.npy")
        np.testing.assert_allclose(other, predictions, atol=1e-4, rtol=0, err_msg=f"{name} under {backend}")
    digest = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("DIGEST ")]
    assert digest == [sequence_digest(mnist_path)]
