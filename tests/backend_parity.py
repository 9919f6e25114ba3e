"""Run as a script under another backend: load saved models, predict, and digest the fixed sequences.

    KERAS_BACKEND=jax python tests/backend_parity.py FOLDER MNIST_PATH

`FOLDER` holds `<name>.keras` models and `inputs_<name>.npz`; the script
writes `predictions_<name>_<backend>.npy` for each and prints the digest of
the fixed validation and test sequences (`sequence_digest`).
"""

import hashlib
import pathlib
import sys

import numpy as np


def sequence_digest(mnist_path):
    """SHA-256 over the fixed validation and test sequences of both tasks, in served order."""
    from mnist_vit.data import load_splits
    from mnist_vit.sequences import TEST_SEED, VALIDATION_SEED, SequenceBatches
    from mnist_vit.tasks import get_task

    splits = load_splits(mnist_path)
    digest = hashlib.sha256()
    for task in (get_task("sum"), get_task("anchor")):
        for split, count, seed in (("validation", 2000, VALIDATION_SEED), ("test", 10000, TEST_SEED)):
            batches = SequenceBatches(splits[split], task, count, 256, seed=seed)
            digest.update(batches.served_rows().tobytes())
            digest.update(batches.served_targets().tobytes())
            sequences = batches.sequences
            for array in (sequences.indices, sequences.mask, sequences.anchors):
                if array is not None:
                    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def main(folder, mnist_path):
    import keras

    from mnist_vit.tasks import load_builtin_tasks

    load_builtin_tasks()  # registers the tasks' custom layers and models

    backend = keras.backend.backend()
    for model_path in sorted(pathlib.Path(folder).glob("*.keras")):
        name = model_path.stem
        model = keras.saving.load_model(model_path, safe_mode=True)
        inputs = dict(np.load(pathlib.Path(folder) / f"inputs_{name}.npz", allow_pickle=False))
        np.save(pathlib.Path(folder) / f"predictions_{name}_{backend}.npy", model.predict(inputs, verbose=0))
    print(f"DIGEST {sequence_digest(mnist_path)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
