"""The augmentation's resampling: Keras's `affine_transform` beside `batched_affine_transform`, per backend.

`DigitAugmentation` resamples every training image once. It can do so with
Keras's `ops.image.affine_transform` or with the package's
`batched_affine_transform` (one gather for the whole batch). This benchmark
times both on 352 images (a batch of 64 sequences of 5.5 images on average)
with the same random transforms, each inside a Keras model's compiled
predict step (`predict_on_batch`, as `model.fit` runs the layer: jit-compiled
on TensorFlow and JAX, eager on PyTorch), and records the largest difference
between their outputs. Each backend runs in its own process. The figure is
the median over rounds of the mean step time in a round, after a warm-up
that compiles. Writes `experiments/results/augmentation.json`.

    python experiments/studies/benchmark_augmentation.py
"""

import functools
import os

from harness import (
    IMAGES,
    benchmark_parser,
    compare_to_baseline,
    print_rows,
    time_steps,
)

from mnist_vit.command_line import run_main
from mnist_vit.settings import PUBLISHED_RESULTS

KERAS = "keras affine_transform"
BATCHED = "batched_affine_transform"


def parse_args(argv=None):
    results = os.path.join(PUBLISHED_RESULTS, "augmentation.json")
    return benchmark_parser(__doc__.splitlines()[0], results, steps=20, rounds=5).parse_args(argv)


def inputs():
    """NumPy images `(IMAGES, 28, 28, 1)` and the augmentation's random transforms `(IMAGES, 8)`."""
    import numpy as np

    from mnist_vit.augmentation import DigitAugmentation

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (IMAGES, 28, 28, 1)).astype("float32")
    transforms = DigitAugmentation(seed=0).random_transforms(images.shape)
    return images, np.asarray(transforms, "float32")


def resampling_model(implementation):
    """A Keras model `(images, transforms) -> resampled images` that uses `implementation`."""
    import keras

    from mnist_vit.augmentation import batched_affine_transform

    def resample(inputs):
        images, transforms = inputs
        if implementation == BATCHED:
            return batched_affine_transform(images, transforms)
        return keras.ops.image.affine_transform(images, transforms, fill_mode="constant")

    images = keras.Input((28, 28, 1))
    transforms = keras.Input((8,))
    resampled = keras.layers.Lambda(resample, output_shape=(28, 28, 1))([images, transforms])
    return keras.Model([images, transforms], resampled)


def child_main(args):
    """Times both resamplers on this process's backend; prints one JSON line."""
    import keras
    import numpy as np

    backend = keras.backend.backend()
    images, transforms = inputs()
    rows, outputs = [], {}
    for implementation in (KERAS, BATCHED):
        model = resampling_model(implementation)
        outputs[implementation] = np.asarray(model.predict_on_batch([images, transforms]))
        step = functools.partial(model.predict_on_batch, [images, transforms])
        ms = time_steps(step, args.steps, args.rounds)
        rows.append({"backend": backend, "implementation": implementation, "ms_per_step": ms})
    difference = float(np.max(np.abs(outputs[KERAS] - outputs[BATCHED])))
    for row in rows:
        row["max_abs_difference"] = difference
    print_rows(rows)


def main():
    args = parse_args()
    if args.child:
        return child_main(args)
    compare_to_baseline(
        __file__,
        args,
        column="implementation",
        baseline=("Keras's", lambda row: row["implementation"] == KERAS),
        ratio="vs_keras",
        settings={"images": IMAGES},
        note=lambda row: f"; outputs differ by at most {row['max_abs_difference']:.1e}",
    )


if __name__ == "__main__":
    run_main(main)
