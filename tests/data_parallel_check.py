"""Run under jax with several (virtual) devices: the same short training on one device and data-parallel.

    XLA_FLAGS=--xla_force_host_platform_device_count=2 KERAS_BACKEND=jax \
        python tests/data_parallel_check.py MNIST_PATH

Prints one JSON line: the device count, the losses of both runs, and the
largest difference between their predictions on fixed inputs.
"""

import json
import sys

import keras
import numpy as np

from mnist_vit.data import load_splits
from mnist_vit.data_parallel import use_data_parallel
from mnist_vit.hyperparameters import Hyperparameters
from mnist_vit.sequences import SequenceBatches
from mnist_vit.tasks import get_task
from mnist_vit.training import build_model, compile_for_task

HYPERPARAMETERS = Hyperparameters.from_dict(
    dict(
        embed_dim=16, filters=(4, 8), kernel_size=3, encoder_dropout=0.0, augment=False, num_blocks=1,
        num_heads=2, ff_dim=32, dropout=0.0, head_units=16, learning_rate=3e-3, weight_decay=1e-4,
        batch_size=32,
    )
)  # fmt: skip


def train(splits):
    """Trains a tiny sum Transformer for 3 epochs.

    Returns:
        (losses, predictions on fixed inputs, number of devices holding a
        replica of the first weight).
    """
    keras.utils.set_random_seed(0)
    task = get_task("sum")
    train_batches = SequenceBatches(splits["train"], task, 320, 32, seed=0)
    check = SequenceBatches(splits["validation"], task, 64, 32, seed=1)
    model = build_model(task, "transformer", HYPERPARAMETERS)
    compile_for_task(task, model, HYPERPARAMETERS.training, total_steps=30)
    history = model.fit(train_batches, epochs=3, verbose=0)
    replicas = len(model.trainable_weights[0].value.sharding.device_set)
    return history.history["loss"], model.predict(check, verbose=0), replicas


def main(mnist_path):
    splits = load_splits(mnist_path)
    single_losses, single, _ = train(splits)
    devices = use_data_parallel([HYPERPARAMETERS.training.batch_size])
    parallel_losses, parallel, replicas = train(splits)
    print(
        "RESULT "
        + json.dumps(
            {
                "devices": devices,
                "distribution": type(keras.distribution.distribution()).__name__,
                "weight_replicas": replicas,
                "single_losses": single_losses,
                "parallel_losses": parallel_losses,
                "max_prediction_difference": float(np.max(np.abs(single - parallel))),
                "prediction_scale": float(np.max(np.abs(single))),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
