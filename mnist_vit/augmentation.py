"""Training-time augmentation that keeps a digit the same digit."""

import math

import keras
from keras import ops

BATCHED_RESAMPLING_BACKENDS = ("jax", "torch")  # faster there than Keras's affine_transform


def batched_affine_transform(images, transforms):
    """`ops.image.affine_transform` (bilinear, zeros outside), all images at once.

    Keras's torch backend resamples one image at a time in a Python loop,
    and its jax backend maps `map_coordinates` over the images; both are
    slower than this, so `DigitAugmentation` uses this on those backends and
    Keras's own transform (one TensorFlow kernel) on tensorflow
    (`experiments/studies/benchmark_augmentation.py`, results in
    `experiments/results/augmentation.json`). Each output pixel reads its
    four neighbours from the whole batch's pixels as one table (`ops.take`
    of rows, on torch an embedding lookup), with a border of zeros around
    every image: a neighbour outside the image is clipped onto the border,
    so it reads zero with no mask.

    Args:
        images: float `(batch, height, width, channels)`.
        transforms: float `(batch, 8)`, rows `[a0, a1, a2, b0, b1, b2, 0, 0]`:
            output pixel `(x, y)` (column, row) reads input pixel
            `(a0 x + a1 y + a2, b0 x + b1 y + b2)`.

    Returns:
        The transformed images, shaped as `images`.
    """
    batch, height, width, channels = ops.shape(images)
    dtype = keras.backend.standardize_dtype(images.dtype)
    rows, columns = ops.meshgrid(
        ops.arange(height, dtype=dtype), ops.arange(width, dtype=dtype), indexing="ij"
    )
    a0, a1, a2, b0, b1, b2 = (ops.reshape(transforms[:, i], (batch, 1, 1)) for i in range(6))
    x = ops.reshape(a0 * columns + a1 * rows + a2, (batch, height * width, 1))
    y = ops.reshape(b0 * columns + b1 * rows + b2, (batch, height * width, 1))
    x0, y0 = ops.floor(x), ops.floor(y)
    bordered_width = width + 2
    table = ops.reshape(ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]]), (-1, channels))
    first_row = ops.reshape(ops.arange(batch, dtype="int32") * (height + 2) * bordered_width, (batch, 1, 1))

    def column(c):
        """Table column offsets of input columns `c`; -1 and `width` are the zero border."""
        return ops.cast(ops.clip(c, -1, width) + 1, "int32")

    def row(r):
        """Table offsets of input rows `r` of each image; -1 and `height` are the zero border."""
        return first_row + ops.cast(ops.clip(r, -1, height) + 1, "int32") * bordered_width

    def read(index):
        """The pixels at table rows `index`, `(batch, height * width, 1)` -> `(..., channels)`."""
        pixels = ops.take(table, ops.reshape(index, (-1,)), axis=0)
        return ops.reshape(pixels, (batch, height * width, channels))

    left, right, upper, lower = column(x0), column(x0 + 1), row(y0), row(y0 + 1)
    wx, wy = x - x0, y - y0
    top = (1 - wx) * read(upper + left) + wx * read(upper + right)
    bottom = (1 - wx) * read(lower + left) + wx * read(lower + right)
    return ops.reshape((1 - wy) * top + wy * bottom, (batch, height, width, channels))


@keras.saving.register_keras_serializable(package="mnist_vit")
class DigitAugmentation(keras.layers.Layer):
    """Small random rotations, shifts and zoom, in training only.

    Each image gets one random affine transform (rotation about the centre,
    zoom about the centre, shift), resampled once with bilinear interpolation
    and zeros outside the image. Never flips: a mirrored 2, 3, 4, 5, 7 or 9 is
    not a digit. The layer is the identity unless `training` is true, so a
    model called outside `fit` is deterministic. It uses only `keras.ops` and
    `keras.random`, so a model that contains it stays jit-compilable on every
    backend (Keras's RandomRotation/RandomTranslation/RandomZoom switch jit
    off for the whole model under jax).

    Args:
        rotation: float. Max rotation as a fraction of a full turn. Defaults
            to `0.03` (about 11 degrees).
        shift: float. Max shift as a fraction of height and width. Defaults
            to `0.08`.
        zoom: float. Max zoom in or out as a fraction. Defaults to `0.08`.
        seed: int or None. Seed of the random transforms.

    Call arguments:
        images: float `(batch, height, width, channels)`.
        training: bool.
    """

    def __init__(self, rotation=0.03, shift=0.08, zoom=0.08, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("rotation", rotation), ("shift", shift), ("zoom", zoom)):
            if not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        self.rotation = rotation
        self.shift = shift
        self.zoom = zoom
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        transforms = self.random_transforms(ops.shape(images))
        if keras.backend.backend() in BATCHED_RESAMPLING_BACKENDS:
            return batched_affine_transform(images, transforms)
        return ops.image.affine_transform(images, transforms, fill_mode="constant")

    def random_transforms(self, image_shape):
        """Returns `(batch, 8)` output-to-input pixel maps for `affine_transform`.

        Row `[a0, a1, a2, b0, b1, b2, 0, 0]` reads output pixel `(x, y)` from
        input pixel `(a0 x + a1 y + a2, b0 x + b1 y + b2)`: a rotation by
        `angle` and scaling by `scale` about the image centre, then a shift.
        """
        batch, height, width = image_shape[0], image_shape[1], image_shape[2]

        def uniform(limit):
            return keras.random.uniform((batch,), -limit, limit, seed=self.seed_generator)

        angle = uniform(2 * math.pi * self.rotation)
        scale = 1.0 + uniform(self.zoom)
        shift_x = uniform(self.shift * width)
        shift_y = uniform(self.shift * height)
        center_x, center_y = (width - 1) / 2, (height - 1) / 2
        a0 = scale * ops.cos(angle)
        a1 = -scale * ops.sin(angle)
        b0 = -a1
        b1 = a0
        a2 = center_x + shift_x - a0 * center_x - a1 * center_y
        b2 = center_y + shift_y - b0 * center_x - b1 * center_y
        zeros = ops.zeros_like(angle)
        return ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)

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
