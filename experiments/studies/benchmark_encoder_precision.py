"""The encoder's training step in float32 and in mixed bfloat16, timed on each backend.

`EncoderConfig.dtype_policy` sets the Keras dtype policy of the encoder's
conv blocks and dropout: `"float32"`, or `"mixed_bfloat16"` (float32
weights, bfloat16 computation; the rescaling, augmentation and embedding
stay float32). This benchmark times a training step (`train_on_batch` of the
digit classifier: encoder, dropout, softmax; the same step as
`benchmark_encoder_layout.py`) with each policy on 352 images (a batch of 64
sequences of 5.5 images on average), without augmentation. Each backend runs
in its own process; the figure is the median over rounds of the mean step
time in a round, after a warm-up. Writes
`experiments/results/findings/encoder_precision.json`.

    python experiments/studies/benchmark_encoder_precision.py
"""

import os

from benchmark_encoder_layout import classifier_step
from harness import (
    IMAGES,
    benchmark_parser,
    compare_to_baseline,
    print_rows,
    time_steps,
)

from mnist_vit.command_line import run_main
from mnist_vit.settings import PUBLISHED_RESULTS

BASELINE = "float32"


def parse_args(argv=None):
    results = os.path.join(PUBLISHED_RESULTS, "findings", "encoder_precision.json")
    return benchmark_parser(__doc__.splitlines()[0], results, steps=20, rounds=5).parse_args(argv)


def child_main(args):
    """Times the step with each dtype policy on this process's backend; prints one JSON line."""
    import keras

    from mnist_vit.encoder import DTYPE_POLICIES, EncoderConfig, build_encoder

    backend = keras.backend.backend()
    rows = [
        {
            "backend": backend,
            "dtype_policy": policy,
            "ms_per_step": time_steps(
                classifier_step(build_encoder(EncoderConfig(augment=False, dtype_policy=policy))),
                args.steps,
                args.rounds,
            ),
        }
        for policy in DTYPE_POLICIES
    ]
    print_rows(rows)


def main():
    args = parse_args()
    if args.child:
        return child_main(args)
    compare_to_baseline(
        __file__,
        args,
        column="dtype_policy",
        baseline=(BASELINE, lambda row: row["dtype_policy"] == BASELINE),
        ratio="vs_float32",
        settings={"images": IMAGES, "encoder": "EncoderConfig(augment=False)"},
    )


if __name__ == "__main__":
    run_main(main)
