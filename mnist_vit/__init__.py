"""mnist-vit: what attention buys over fully-connected models on sets of MNIST images.

Importing the package registers its custom layers and metrics, so saved
`.keras` models load with `keras.saving.load_model(path)` in safe mode.
"""

__version__ = "0.1.0"

from mnist_vit import augmentation, cross_attention, digit_value, metrics, pooling, slots, transformer_block  # noqa: F401 (registers layers)
