"""Run as a script under another backend: load saved models, predict, train, and digest the fixed sequences.

    KERAS_BACKEND=jax python tests/backend_parity.py FOLDER MNIST_PATH

`FOLDER` holds `<name>.keras` models and `inputs_<name>.npz`; the script
writes `predictions_<name>_<backend>.npy` for each. It holds untrained
`train_<name>.keras` models and their batches `batch_<name>.npz` too; the
script trains each as `train_steps` does and writes the losses of its steps,
`losses_<name>_<backend>.npy`. Last it prints the digest of the fixed
validation and test sequences (`sequence_digest`).
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


TRAIN_STEPS = 3  # later steps' losses drift apart by float rounding alone (docs/findings.md)


def train_steps(name, model, batch):
    """Trains `model` `TRAIN_STEPS` steps on one batch; returns the steps' losses, float64 `(TRAIN_STEPS,)`.

    Compiles it as a final run does, with `TINY`'s training settings.
    `name` is `<task>_<model>[_<suffix>]`; `batch` holds the model's inputs and
    `targets`.
    """
    from model_helpers import TINY

    from mnist_vit.tasks import get_task
    from mnist_vit.training import compile_for_task

    compile_for_task(get_task(name.split("_")[0]), model, TINY.training, TRAIN_STEPS)
    inputs = {key: value for key, value in batch.items() if key != "targets"}
    losses = [
        model.train_on_batch(inputs, batch["targets"], return_dict=True)["loss"] for _ in range(TRAIN_STEPS)
    ]
    return np.array(losses, dtype="float64")


def main(folder, mnist_path):
    import keras

    from mnist_vit.tasks import load_builtin_tasks

    load_builtin_tasks()  # registers the tasks' custom layers and models

    backend = keras.backend.backend()
    folder = pathlib.Path(folder)
    for model_path in sorted(folder.glob("*.keras")):
        name = model_path.stem
        model = keras.saving.load_model(model_path, safe_mode=True)
        if name.startswith("train_"):
            name = name.removeprefix("train_")
            batch = dict(np.load(folder / f"batch_{name}.npz", allow_pickle=False))
            np.save(folder / f"losses_{name}_{backend}.npy", train_steps(name, model, batch))
        else:
            inputs = dict(np.load(folder / f"inputs_{name}.npz", allow_pickle=False))
            np.save(folder / f"predictions_{name}_{backend}.npy", model.predict(inputs, verbose=0))
    print(f"DIGEST {sequence_digest(mnist_path)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
