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

    python experiments/benchmark_encoder_layout.py
"""

import argparse
import os

from benchmark_convolution import IMAGES, time_steps

from mnist_vit.backends import BACKENDS, installed_backends, print_rows, rows_from_child
from mnist_vit.command_line import ArgumentParser, check_writable, positive_int, run_main

HERE = os.path.dirname(os.path.abspath(__file__))
POOL_FIRST = "Conv-MaxPool-BN-ReLU"
NORM_FIRST = "Conv-BN-ReLU-MaxPool"


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=positive_int, default=20, help="steps per timed round")
    parser.add_argument("--rounds", type=positive_int, default=5, help="timed rounds per layout")
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, help="backends to measure (default: every installed one)"
    )
    parser.add_argument(
        "--results",
        default=os.path.join(HERE, "results", "findings", "encoder_layout.json"),
        help="results file to write",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def norm_first_encoder(config):
    """The package's encoder's layers, each block in the order Conv-BN-ReLU-MaxPool."""
    import keras

    from mnist_vit.encoder import build_encoder

    encoder = build_encoder(config)
    blocks = {layer.name: layer for layer in encoder.layers}
    x = inputs = keras.Input(encoder.input_shape[1:])
    x = blocks["rescale"](x)
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
    from mnist_vit.results import benchmark_results
    from mnist_vit.safe_files import atomic_write_json

    check_writable(os.path.dirname(os.path.abspath(args.results)))
    rows = []
    for backend in args.backends or installed_backends():
        print(f"backend {backend}: {args.rounds} rounds of {args.steps} steps per layout")
        backend_rows = {
            row["layout"]: row
            for row in rows_from_child(
                __file__, backend, ["--steps", str(args.steps), "--rounds", str(args.rounds)]
            )
        }
        norm_first = backend_rows[NORM_FIRST]["ms_per_step"]
        for layout, row in backend_rows.items():
            row["vs_norm_first"] = round(row["ms_per_step"] / norm_first, 2)
            rows.append(row)
            print(
                f"{backend:>10} {layout:>22}: {row['ms_per_step']:8.2f} ms per step "
                f"({row['vs_norm_first']:.2f}x {NORM_FIRST})"
            )
    settings = {
        "images": IMAGES,
        "encoder": "EncoderConfig(augment=False)",
        "steps": args.steps,
        "rounds": args.rounds,
        "statistic": "median round",
    }
    atomic_write_json(args.results, benchmark_results(rows, settings))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    run_main(main)
