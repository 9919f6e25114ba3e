"""mnist-vit: what attention buys over fully-connected models on sets of MNIST images.

Importing the package registers its custom layers, metrics and models, so saved
`.keras` models load with `keras.saving.load_model(path)` in safe mode.
"""

__version__ = "0.1.0"

from mnist_vit import (  # noqa: F401 (registers layers, metrics and models)
    augmentation,
    cross_attention,
    digit_value,
    metrics,
    pooling,
    slots,
    sum_distribution,
    transformer_block,
)
