"""Training and prediction throughput of the sum Transformer: padded batches against length buckets.

For each installed backend (each in its own process, since Keras picks the
backend at import), for two models -- the original project's architecture
and the project's tuned sum Transformer -- and for each of the encoder's
layouts (`--data-formats`, `mnist_vit.encoder.DATA_FORMATS`: the conv layers
computing channels-last or channels-first), the same compiled model is
trained on

    (a) "padded": every sequence padded to 10 slots and all slots encoded
        (the original project's pipeline), and
    (b) "bucketed": the project's pipeline, batches of similar length padded
        only to their own longest sequence (no encoder work on padding),

for the same number of steps, alternating (a) and (b) for a few rounds after
a warm-up that compiles every batch shape. It prints training sequences/s of
each, the ratio b/a, `model.predict` sequences/s on the 10,000 test
sequences, and the process's peak resident memory, and writes
`experiments/results/throughput.json`. It also splits a training step's time
into a fixed part and a part per slot: ms per step on batches whose
sequences all have 1, 2, 5 or 10 images, with a straight line fitted through
them. The per-slot part is all that removing padding can save.

    python experiments/studies/benchmark_throughput.py --data ../shared/data/mnist.npz
"""

import os
import resource
import time

from harness import benchmark_parser, hyperparameters_in, measure_backends, print_rows, write_benchmark

from mnist_vit.command_line import run_main
from mnist_vit.settings import PUBLISHED_RESULTS

# The original PyTorch project's sum Transformer (../shared/docs/reference.md):
# its encoder (`original_encoder`), one block with 4 heads and feed-forward
# 2048, no dropout, learning rate 1e-3, batch 32; this project's padding mask
# and per-slot head. No augmentation (the original's only one was flips).
ORIGINAL = {
    "num_blocks": 1,
    "num_heads": 4,
    "ff_dim": 2048,
    "dropout": 0.0,
    "learning_rate": 1e-3,
    "weight_decay": 1e-5,
    "batch_size": 32,
}


def parse_args(argv=None):
    from mnist_vit.encoder import DATA_FORMATS

    results = os.path.join(PUBLISHED_RESULTS, "throughput.json")
    parser = benchmark_parser(__doc__.splitlines()[0], results, steps=100, rounds=3)
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument(
        "--data-formats",
        nargs="+",
        choices=DATA_FORMATS,
        default=list(DATA_FORMATS),
        help="the encoders' layouts to time (default: both)",
    )
    parser.add_argument(
        "--tuned-results",
        default=os.path.join(PUBLISHED_RESULTS, "sum.json"),
        help="sum results file whose Transformer hyperparameters are the tuned model",
    )
    return parser.parse_args(argv)


def original_encoder(data_format):
    """The original project's encoder: Conv(6, 5x5)-ReLU-MaxPool-Conv(16, 5x5)-ReLU-Flatten-Dense(128).

    Valid convolutions, no batch normalisation; raw pixels 0..255
    `(batch, 28, 28, 1)` in, `(batch, 128)` out; the conv layers compute in
    `data_format`, as the package's encoder does.
    """
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    if data_format == "channels_first":
        x = layers.Permute((3, 1, 2))(x)
    x = layers.Conv2D(6, 5, activation="relu", data_format=data_format)(x)
    x = layers.MaxPooling2D(2, data_format=data_format)(x)
    x = layers.Conv2D(16, 5, activation="relu", data_format=data_format)(x)
    x = layers.Flatten(data_format=data_format)(x)
    return keras.Model(inputs, layers.Dense(128)(x), name="original_encoder")


def build_model(model_name, hyperparameters, total_steps, data_format):
    """The compiled sum Transformer to time: the original's (its own encoder) or the tuned one.

    Args:
        model_name: "original" or "tuned".
        hyperparameters: `Hyperparameters`.
        total_steps: int. The learning-rate schedule's length.
        data_format: str. The encoder's layout (`EncoderConfig.data_format`).
    """
    import dataclasses

    from mnist_vit.encoder import build_encoder
    from mnist_vit.sum_task import SUM, build_sum_transformer
    from mnist_vit.training import compile_for_task

    if model_name == "original":
        encoder = original_encoder(data_format)
    else:
        encoder = build_encoder(dataclasses.replace(hyperparameters.encoder, data_format=data_format))
    model = build_sum_transformer(encoder, hyperparameters.head)
    return compile_for_task(SUM, model, hyperparameters.training, total_steps)


def peak_rss_mb():
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_milliseconds(model, split, batch_size, steps, slot_counts=(1, 2, 5, 10)):
    """Training step time on batches whose sequences all have the same number of images.

    Returns:
        dict with `step_ms_by_slots` (slot count -> ms per `train_on_batch`,
        mean of `steps` steps after one untimed step) and the least-squares
        line through them, `fixed_ms_per_step + ms_per_slot * slots`.
    """
    import numpy as np

    from mnist_vit.sequences import SequenceBatches
    from mnist_vit.sum_task import SUM

    milliseconds = {}
    for slots in slot_counts:
        inputs, targets = SequenceBatches(
            split, SUM, batch_size, batch_size, seed=slots, lengths=(slots, slots)
        )[0]
        model.train_on_batch(inputs, targets)
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(inputs, targets)
        milliseconds[slots] = 1000 * (time.perf_counter() - start) / steps
    per_slot, fixed = np.polyfit(list(milliseconds), list(milliseconds.values()), 1)
    return {
        "step_ms_by_slots": {str(slots): round(ms, 2) for slots, ms in milliseconds.items()},
        "fixed_ms_per_step": round(float(fixed), 2),
        "ms_per_slot": round(float(per_slot), 2),
    }


def measure(model_name, hyperparameters, data_format, splits, steps, rounds):
    """Times (a) padded and (b) bucketed training and prediction of one sum Transformer in `data_format`.

    Returns:
        dict with sequences/s of each pipeline (training: the median round),
        the ratio b/a, prediction sequences/s on the 10,000 test sequences,
        and the step time split of `step_milliseconds`.
    """
    import numpy as np

    from mnist_vit.sequences import EVALUATION_BATCH_SIZE, MAX_LEN, TEST_SEED, SequenceBatches
    from mnist_vit.sum_task import SUM

    batch_size = hyperparameters.training.batch_size
    pipelines = {"padded": MAX_LEN, "bucketed": None}

    def batches(split, num_sequences, pad_to, seed, fresh, batch=batch_size):
        return SequenceBatches(
            splits[split], SUM, num_sequences, batch, seed=seed, fresh=fresh, pad_to=pad_to
        )

    models, train = {}, {}
    for name, pad_to in pipelines.items():
        models[name] = build_model(model_name, hyperparameters, 10**6, data_format)
        train[name] = batches("train", steps * batch_size, pad_to, seed=0, fresh=True)
        # Warm-up: one round compiles every batch shape (each length of the buckets).
        models[name].fit(train[name], epochs=1, verbose=0)

    seconds = {name: [] for name in pipelines}
    for round_index in range(rounds):
        for name in pipelines:
            start = time.perf_counter()
            models[name].fit(train[name], epochs=1, verbose=0)
            seconds[name].append(time.perf_counter() - start)
        print(
            f"  {model_name} {data_format} round {round_index + 1}/{rounds}: "
            + ", ".join(f"{name} {steps * batch_size / seconds[name][-1]:.0f} seq/s" for name in pipelines),
            flush=True,
        )
    training = {name: steps * batch_size / float(np.median(seconds[name])) for name in pipelines}
    step_split = step_milliseconds(models["bucketed"], splits["train"], batch_size, steps)

    predicting = {}
    for name, pad_to in pipelines.items():
        test = batches("test", 10000, pad_to, seed=TEST_SEED, fresh=False, batch=EVALUATION_BATCH_SIZE)
        models[name].predict(test, verbose=0)  # compiles every shape
        start = time.perf_counter()
        models[name].predict(test, verbose=0)
        predicting[name] = 10000 / (time.perf_counter() - start)
    return {
        "sequences_per_second": round(training["bucketed"], 1),
        "padded_sequences_per_second": round(training["padded"], 1),
        "ratio_vs_padded": round(training["bucketed"] / training["padded"], 3),
        "predict_sequences_per_second": round(predicting["bucketed"], 1),
        "padded_predict_sequences_per_second": round(predicting["padded"], 1),
        "padding_fraction": {name: round(train[name].padding_fraction(), 4) for name in pipelines},
        "training_seconds_per_round": {name: [round(s, 3) for s in seconds[name]] for name in pipelines},
        **step_split,
    }


def child_main(args):
    """Measures both models on the backend this process runs; prints one JSON line of rows."""
    import keras

    from mnist_vit.data import load_splits
    from mnist_vit.hyperparameters import Hyperparameters

    backend = keras.backend.backend()
    splits = load_splits(args.data)
    models = {
        "original": Hyperparameters.from_dict(ORIGINAL),
        "tuned": hyperparameters_in(args.tuned_results, "transformer"),
    }
    rows = []
    for model_name, hyperparameters in models.items():
        for data_format in args.data_formats:
            row = {
                "backend": backend,
                "model": model_name,
                "data_format": data_format,
                "batch_size": hyperparameters.training.batch_size,
            }
            row.update(measure(model_name, hyperparameters, data_format, splits, args.steps, args.rounds))
            row["peak_rss_mb"] = round(peak_rss_mb(), 1)
            rows.append(row)
    print_rows(rows)


def main():
    args = parse_args()
    if args.child:
        return child_main(args)
    hyperparameters_in(args.tuned_results, "transformer")
    child_args = ["--tuned-results", args.tuned_results, "--data-formats", *args.data_formats]
    child_args += ["--data", args.data] if args.data else []
    rows = []
    for _, backend_rows in measure_backends(__file__, args, child_args):
        for row in backend_rows:
            rows.append(row)
            print(
                f"{row['backend']:>10} {row['model']:>8} {row['data_format']:>14}: "
                f"bucketed {row['sequences_per_second']:.0f} seq/s, "
                f"padded {row['padded_sequences_per_second']:.0f} seq/s, ratio {row['ratio_vs_padded']:.2f}, "
                f"predict {row['predict_sequences_per_second']:.0f} seq/s, "
                f"peak RSS {row['peak_rss_mb']:.0f} MB, step {row['fixed_ms_per_step']:.1f} ms "
                f"+ {row['ms_per_slot']:.2f} ms per slot"
            )
        write_benchmark(args, rows, {})


if __name__ == "__main__":
    run_main(main)
