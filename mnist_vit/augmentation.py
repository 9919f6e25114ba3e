"""Training-time augmentation that keeps a digit the same digit."""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="mnist_vit")
class DigitAugmentation(keras.layers.Layer):
    """Small random rotations, shifts and zoom, in training only.

    Never flips: a mirrored 2, 3, 4, 5, 7 or 9 is not a digit. Unlike Keras's
    random image layers, which default to `training=True` when called
    directly, this layer is the identity unless `training` is true, so a
    model called outside `fit` is deterministic.

    Args:
        rotation: float. Max rotation as a fraction of a full turn. Defaults
            to `0.03` (about 11 degrees).
        shift: float. Max shift as a fraction of height and width. Defaults
            to `0.08`.
        zoom: float. Max zoom in or out as a fraction. Defaults to `0.08`.
        seed: int or None. Seed of the random layers.

    Call arguments:
        images: float `(batch, 28, 28, 1)`.
        training: bool.
    """

    def __init__(self, rotation=0.03, shift=0.08, zoom=0.08, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rotation = rotation
        self.shift = shift
        self.zoom = zoom
        self.seed = seed
        self.transforms = [
            layers.RandomRotation(rotation, fill_mode="constant", seed=seed, name="rotate"),
            layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed, name="shift"),
            layers.RandomZoom(zoom, fill_mode="constant", seed=seed, name="zoom"),
        ]

    def build(self, input_shape):
        for transform in self.transforms:
            transform.build(input_shape)

    def call(self, images, training=None):
        if not training:
            return images
        for transform in self.transforms:
            images = transform(images, training=True)
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rotation": self.rotation,
            "shift": self.shift,
            "zoom": self.zoom,
            "seed": self.seed,
        }
