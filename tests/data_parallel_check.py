"""The same short training on one device and data-parallel on two (virtual) CPU devices.

    XLA_FLAGS=--xla_force_host_platform_device_count=2 KERAS_BACKEND=jax \
        python tests/data_parallel_check.py MNIST_PATH
    KERAS_BACKEND=tensorflow python tests/data_parallel_check.py MNIST_PATH

On tensorflow the script splits the CPU into two logical devices itself.
Prints one JSON line: the device count, the distribution, the losses of both
runs, and the largest difference between their predictions on fixed inputs.
"""

import json
import os
import sys

if os.environ.get("KERAS_BACKEND") == "tensorflow":
    import tensorflow as tf

    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )

import keras  # noqa: E402 (after the devices are set up)
import numpy as np  # noqa: E402

from mnist_vit.data import load_splits  # noqa: E402
from mnist_vit.data_parallel import data_parallel  # noqa: E402
from mnist_vit.hyperparameters import Hyperparameters  # noqa: E402
from mnist_vit.sequences import SequenceBatches  # noqa: E402
from mnist_vit.tasks import get_task  # noqa: E402
from mnist_vit.training import build_model, compile_for_task  # noqa: E402

HYPERPARAMETERS = Hyperparameters.from_dict(
    dict(
        embed_dim=16, filters=(4, 8), kernel_size=3, encoder_dropout=0.0, augment=False, num_blocks=1,
        num_heads=2, ff_dim=32, dropout=0.0, head_units=16, learning_rate=3e-3, weight_decay=1e-4,
        batch_size=32,
    )
)  # fmt: skip


def train(splits):
    """Trains a tiny sum Transformer for 10 epochs of one batch.

    One batch per epoch: Keras's TensorFlow trainer draws the first batch of
    a distributed epoch to build the model, which rotates the order in which
    that epoch serves the other batches, so two runs compare step by step
    only when every epoch is one batch.

    Returns:
        (losses, predictions on fixed inputs, number of devices holding a
        replica of the first weight, the distribution's name).
    """
    keras.utils.set_random_seed(0)
    task = get_task("sum")
    train_batches = SequenceBatches(splits["train"], task, 32, 32, seed=0)
    check = SequenceBatches(splits["validation"], task, 64, 32, seed=1)
    model = build_model(task, "transformer", HYPERPARAMETERS)
    compile_for_task(task, model, HYPERPARAMETERS.training, total_steps=30)
    history = model.fit(train_batches, epochs=10, verbose=0)
    return (
        history.history["loss"],
        model.predict(check, verbose=0),
        replica_count(model.trainable_weights[0]),
        distribution_name(model),
    )


def replica_count(variable):
    """On how many devices a Keras variable is held."""
    if keras.backend.backend() == "jax":
        return len(variable.value.sharding.device_set)
    return len(getattr(variable.value, "values", (variable.value,)))  # a MirroredVariable: one per replica


def distribution_name(model):
    """The distribution the model trained with: Keras's (jax) or its TensorFlow strategy."""
    if keras.backend.backend() == "jax":
        return type(keras.distribution.distribution()).__name__
    return type(model.distribute_strategy).__name__


def main(mnist_path):
    splits = load_splits(mnist_path)
    single_losses, single, _, _ = train(splits)
    with data_parallel([HYPERPARAMETERS.training.batch_size]) as devices:
        parallel_losses, parallel, replicas, distribution = train(splits)
    print(
        "RESULT "
        + json.dumps(
            {
                "devices": devices,
                "distribution": distribution,
                "weight_replicas": replicas,
                "single_losses": single_losses,
                "parallel_losses": parallel_losses,
                "max_prediction_difference": float(np.max(np.abs(single - parallel))),
                "prediction_scale": float(np.max(np.abs(single))),
                "predictions_differing": int(
                    np.sum(np.abs(single - parallel) > 1e-3 * max(1.0, float(np.max(np.abs(single)))))
                ),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
