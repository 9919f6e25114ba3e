"""mnist-vit: what attention buys over fully-connected models on sets of MNIST images.

Importing the package registers its custom layers, metrics and models (so
saved `.keras` models load with `keras.saving.load_model(path)` in safe
mode) and its tasks (`mnist_vit.tasks.get_task`). It first checks
`KERAS_BACKEND` (`mnist_vit.backends.check_backend`).
"""

__version__ = "0.1.0"

from mnist_vit.backends import check_backend, quiet_native_stderr

check_backend()
with quiet_native_stderr():  # TensorFlow's native start-up lines
    import keras  # noqa: F401

from mnist_vit import (  # noqa: E402, F401 (registers layers, metrics, models and tasks)
    anchor_task,
    augmentation,
    cross_attention,
    digit_head,
    slots,
    sum_task,
    tasks,
    transformer_block,
)
