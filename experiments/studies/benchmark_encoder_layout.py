"""The order of the encoder's block layers, timed: pooling before or after the normalization, on each backend.

Each of the encoder's blocks is a convolution, a 2x2 max-pool, batch
normalization and ReLU. ReLU commutes with max-pooling, so where the pool
sits changes the normalization's statistics (over the pooled positions or
all of them) but not what the block can express; it does change the work:
after the pool, normalization and ReLU run on a quarter of the positions.
This benchmark times a training step (`train_on_batch` of the digit
classifier: encoder, dropout, softmax) with the package's encoder
(`mnist_vit.encoder.build_encoder`: Conv-MaxPool-BN-ReLU) and with the same
layers in the order Conv-BN-ReLU-MaxPool, on 352 images (a batch of 64
sequences of 5.5 images on average), without augmentation. Each backend
runs in its own process; the figure is the median over rounds of the mean
step time in a round, after a warm-up. Writes
`experiments/results/findings/encoder_layout.json`.

    python experiments/studies/benchmark_encoder_layout.py
"""

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

POOL_FIRST = "Conv-MaxPool-BN-ReLU"
NORM_FIRST = "Conv-BN-ReLU-MaxPool"


def parse_args(argv=None):
    results = os.path.join(PUBLISHED_RESULTS, "findings", "encoder_layout.json")
    return benchmark_parser(__doc__.splitlines()[0], results, steps=20, rounds=5).parse_args(argv)


def norm_first_encoder(config):
    """The package's encoder's layers, each block in the order Conv-BN-ReLU-MaxPool."""
    import keras

    from mnist_vit.encoder import build_encoder

    encoder = build_encoder(config)
    blocks = {layer.name: layer for layer in encoder.layers}
    x = inputs = keras.Input(encoder.input_shape[1:])
    x = blocks["rescale"](x)
    if "to_channels_first" in blocks:  # the backend's default data format (`default_data_format`)
        x = blocks["to_channels_first"](x)
    for i in range(len(config.filters)):
        for name in ("conv", "bn", "relu", "pool"):
            x = blocks[f"{name}_{i}"](x)
    for name in ("flatten", "dropout", "embedding"):
        x = blocks[name](x)
    return keras.Model(inputs, x, name="encoder_norm_first")


def classifier_step(encoder):
    """`train_on_batch` of the digit classifier on `encoder`, on `IMAGES` fixed random images."""
    import keras
    import numpy as np

    from mnist_vit.encoder import build_classifier

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (IMAGES, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, IMAGES)
    model = build_classifier(encoder)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return lambda: model.train_on_batch(images, labels)


def child_main(args):
    """Times both layouts on this process's backend; prints one JSON line."""
    import keras

    from mnist_vit.encoder import EncoderConfig, build_encoder

    config = EncoderConfig(augment=False)
    backend = keras.backend.backend()
    encoders = {POOL_FIRST: build_encoder(config), NORM_FIRST: norm_first_encoder(config)}
    rows = [
        {
            "backend": backend,
            "layout": layout,
            "ms_per_step": time_steps(classifier_step(encoder), args.steps, args.rounds),
        }
        for layout, encoder in encoders.items()
    ]
    print_rows(rows)


def main():
    args = parse_args()
    if args.child:
        return child_main(args)
    compare_to_baseline(
        __file__,
        args,
        column="layout",
        baseline=(NORM_FIRST, lambda row: row["layout"] == NORM_FIRST),
        ratio="vs_norm_first",
        settings={"images": IMAGES, "encoder": "EncoderConfig(augment=False)"},
    )


if __name__ == "__main__":
    run_main(main)
