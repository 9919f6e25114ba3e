"""Data-parallel training over several accelerators with Keras's own distribution API."""

import keras

from mnist_vit.errors import UsageError


def use_data_parallel(batch_sizes=()):
    """Makes every model built afterwards train data-parallel on all local devices.

    Sets `keras.distribution.DataParallel` over `keras.distribution.list_devices()`:
    each batch is split along its first axis across the devices, the weights
    are replicated, and gradients are averaged, so training computes the same
    thing as on one device. Keras supports this on the jax backend only.

    Args:
        batch_sizes: ints that each must be divisible by the device count.

    Returns:
        The number of devices.

    Raises:
        UsageError: on another backend, or when a batch size does not split
            evenly across the devices.
    """
    if keras.backend.backend() != "jax":
        raise UsageError(
            f"data-parallel training needs KERAS_BACKEND=jax (Keras's DataParallel), "
            f"this is {keras.backend.backend()}"
        )
    devices = keras.distribution.list_devices()
    for batch_size in batch_sizes:
        if batch_size % len(devices):
            raise UsageError(f"batch size {batch_size} does not split evenly across {len(devices)} devices")
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return len(devices)
