"""mnist-vit: what attention buys over fully-connected models on sets of MNIST images.

Importing the package is cheap: it only checks `KERAS_BACKEND`
(`mnist_vit.backends.check_backend`), so that the command line can check its
arguments and files before Keras is imported. Importing a task's module
(`mnist_vit.sum_task`, `mnist_vit.anchor_task`) registers the task and the
custom layers, metrics and models it uses; `mnist_vit.tasks.load_builtin_tasks()`
imports them all, after which saved `.keras` models load with
`keras.saving.load_model(path)` in safe mode.
"""

__version__ = "0.1.0"

from mnist_vit.backends import check_backend

check_backend()
