"""Models saved under this backend predict and train alike under every other installed backend.

CI runs the suite once per backend, so every ordered pair of tensorflow, jax
and torch is checked.
"""

import subprocess
import sys

import keras
import numpy as np
import pytest
from backend_parity import sequence_digest, train_steps
from model_helpers import random_inputs, tiny_model
from run_script import ROOT, script_env

from mnist_vit.backends import installed_backends

pytestmark = pytest.mark.slow  # subprocesses

OTHER_BACKENDS = [name for name in installed_backends() if name != keras.backend.backend()]
MODELS = {  # name `<task>_<model>[_<data format>]` -> (hyperparameter changes, anchor input?)
    "sum_transformer": ({"augment": True}, False),
    "sum_deepsets": ({}, False),
    "sum_fc": ({}, False),
    "anchor_transformer": ({}, True),
    "anchor_deepsets": ({}, True),
    "anchor_fc": ({}, True),
    "distinct_deepsets": ({}, False),
    "ascents_transformer": ({}, False),
    # the encoder in both layouts, whichever this backend builds by default
    "sum_deepsets_channels_first": ({"augment": True, "data_format": "channels_first"}, False),
    "anchor_transformer_channels_last": ({"data_format": "channels_last"}, True),
}

TARGETS = {  # per task, float32 (4, 1) targets of the training batch
    "sum": np.array([[3.0], [17.0], [45.0], [30.0]], dtype="float32"),
    "anchor": np.array([[1.0], [0.0], [1.0], [0.0]], dtype="float32"),
    "distinct": np.array([[1.0], [3.0], [7.0], [5.0]], dtype="float32"),
    "ascents": np.array([[0.0], [2.0], [5.0], [3.0]], dtype="float32"),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Every model kind saved under this backend, with inputs and this backend's predictions.

    Also every model kind without randomness (no dropout, no augmentation)
    saved untrained, with a batch, and the losses of `train_steps` on it here.
    """
    folder = tmp_path_factory.mktemp("parity")
    expected, losses = {}, {}
    for name, (changes, anchor) in MODELS.items():
        task, model_name = name.split("_")[:2]
        keras.utils.set_random_seed(0)
        model = tiny_model(task, model_name, **changes)
        inputs = random_inputs([1, 4, 10], anchor=anchor, seed=3)
        np.savez(folder / f"inputs_{name}.npz", **inputs)
        model.save(folder / f"{name}.keras")
        expected[name] = model.predict(inputs, verbose=0)
        keras.utils.set_random_seed(0)
        model = tiny_model(
            task, model_name, **{**changes, "augment": False, "encoder_dropout": 0.0, "dropout": 0.0}
        )
        batch = {**random_inputs([1, 4, 10, 7], anchor=anchor, seed=4), "targets": TARGETS[task]}
        np.savez(folder / f"batch_{name}.npz", **batch)
        model.save(folder / f"train_{name}.keras")
        losses[name] = train_steps(name, model, batch)
    return folder, expected, losses


@pytest.mark.skipif(not OTHER_BACKENDS, reason="no other Keras backend installed")
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_saved_models_fixed_sequences_and_training_steps_match_on_other_backend(saved, mnist_path, backend):
    folder, expected, trained = saved
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
    losses = {name: np.load(folder / f"losses_{name}_{backend}.npy") for name in expected}
    for name, trained_here in trained.items():
        # Each step's loss is computed before its update: it checks the forward
        # pass in training mode, and from the second step the gradient, the
        # clipping and the AdamW update of the step before.
        np.testing.assert_allclose(
            losses[name], trained_here, rtol=1e-4, err_msg=f"training {name} under {backend}"
        )
