"""Loading a saved model in a fresh Python process, as a user would."""

import os
import subprocess
import sys
import textwrap

import numpy as np

LOAD_AND_PREDICT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    from mnist_vit.tasks import load_builtin_tasks

    load_builtin_tasks()  # registers the tasks' custom layers and models

    model = keras.saving.load_model(sys.argv[1], safe_mode=True)
    inputs = dict(np.load(sys.argv[2], allow_pickle=False))
    if list(inputs) == ["image"]:
        inputs = inputs["image"]
    np.save(sys.argv[3], np.asarray(model.predict(inputs, verbose=0)))
    """
)


def predict_in_fresh_process(model_path, inputs, tmp_path, backend=None):
    """Loads `model_path` in a new process (optionally another backend) and predicts `inputs`."""
    inputs_path = tmp_path / "inputs.npz"
    if isinstance(inputs, dict):
        np.savez(inputs_path, **inputs)
    else:
        np.savez(inputs_path, image=inputs)
    out_path = tmp_path / "predictions.npy"
    env = dict(os.environ)
    if backend:
        env["KERAS_BACKEND"] = backend
    subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(model_path), str(inputs_path), str(out_path)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    return np.load(out_path)
