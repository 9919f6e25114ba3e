"""Task 1: train the CNN digit classifier, the encoder's sanity check.

Trains on MNIST's training split less its last 5,000 images, keeps the best
checkpoint by validation accuracy, evaluates it once on the test split and
writes the results file into the run folder (`--out`, default
`runs/classification`); `--publish` writes the committed
`experiments/results/classification.json` instead. Killed at any moment, the
same command resumes after the last completed epoch; the run folder records
its settings, and a rerun with other settings is refused (`--start-over`
trains afresh). Options, output paths and the data file are checked before
Keras is imported; a loss that is not finite stops the run with one line.
`--filters` sets the encoder's conv blocks (e.g. `--filters 32 64`, twice
the channels), so the script also measures how well a wider encoder reads
digits when taught with their labels: the ceiling for the digit probe of a
model that learns from sums alone (`docs/findings.md`).

    python experiments/train_classifier.py --data ../shared/data/mnist.npz
"""

import dataclasses
import os

from mnist_vit.backends import import_keras
from mnist_vit.command_line import (
    ArgumentParser,
    bounded_float,
    bounded_int,
    check_output_file,
    check_output_folder,
    positive_int,
    run_main,
    seed_int,
)
from mnist_vit.data import Split, load_splits
from mnist_vit.results import best_epoch, run_metadata
from mnist_vit.run_folder import RunFolder, data_fingerprint, read_model
from mnist_vit.safe_files import atomic_write_json

HERE = os.path.dirname(os.path.abspath(__file__))
EMBED_DIM = 128  # the classifier's encoder: a wider embedding than the default, augmentation on
MAX_FILTERS = 1024  # channels of one conv block
PUBLISHED_RESULTS = os.path.join(HERE, "results", "classification.json")
# What `--start-over` removes from the run folder.
RUN_ENTRIES = ("backup", "history.csv", "best.keras", "best.keras.best.json", "logs", "results.json")


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument("--epochs", type=positive_int, default=15)
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--learning-rate", type=bounded_float(0, 1, low_inclusive=False), default=3e-3)
    parser.add_argument("--weight-decay", type=bounded_float(0, 1), default=1e-4)
    parser.add_argument(
        "--train-images", type=positive_int, help="train on only the first N training images (quick checks)"
    )
    parser.add_argument(
        "--filters",
        type=bounded_int(1, MAX_FILTERS),
        nargs="+",
        help="channels of each conv block of the encoder (default: the tasks' encoder's, 16 32)",
    )
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--out", default="runs/classification", help="folder for logs and checkpoints")
    parser.add_argument("--results", help="results file (default <out>/results.json)")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write the results over the committed experiments/results/classification.json",
    )
    parser.add_argument(
        "--start-over", action="store_true", help="delete the run folder's training and train afresh"
    )
    args = parser.parse_args(argv)
    if args.results is None:
        args.results = PUBLISHED_RESULTS if args.publish else os.path.join(args.out, "results.json")
    return args


def settings(args, backend, splits):
    """The settings that decide the run folder's results (`RunFolder`)."""
    return {
        "backend": backend,
        "data": data_fingerprint(splits),
        **{
            key: getattr(args, key)
            for key in (
                "epochs",
                "batch_size",
                "learning_rate",
                "weight_decay",
                "train_images",
                "filters",
                "seed",
            )  # fmt: skip
        },
    }


def as_images(split):
    """uint8 `(N, 28, 28)` -> float32 `(N, 28, 28, 1)` raw pixels."""
    return split.images[..., None].astype("float32")


def main(argv=None):
    args = parse_args(argv)
    check_output_folder(args.out, "run folder")
    check_output_file(args.results, "results file")
    splits = load_splits(args.data)
    keras = import_keras()
    with RunFolder(args.out, settings(args, keras.backend.backend(), splits), args.start_over, RUN_ENTRIES):
        train(args, splits)


def train(args, splits):
    """Trains, tests and writes the results file."""
    import keras

    from mnist_vit.callbacks import make_callbacks, read_history
    from mnist_vit.encoder import EncoderConfig, build_classifier, build_encoder
    from mnist_vit.training import make_optimizer

    print(f"backend: {keras.backend.backend()}, seed: {args.seed}")
    if args.train_images:
        splits["train"] = Split(
            splits["train"].images[: args.train_images], splits["train"].labels[: args.train_images]
        )
    keras.utils.set_random_seed(args.seed)

    encoder = EncoderConfig(embed_dim=EMBED_DIM)
    if args.filters:
        encoder = dataclasses.replace(encoder, filters=tuple(args.filters))
    print(f"encoder: conv blocks of {', '.join(map(str, encoder.filters))} channels")
    model = build_classifier(build_encoder(encoder))
    steps = args.epochs * -(-len(splits["train"]) // args.batch_size)
    model.compile(
        optimizer=make_optimizer(args.learning_rate, args.weight_decay, steps, warmup_steps=steps // 20),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks, best_path = make_callbacks(args.out, monitor="val_accuracy", mode="max", seed=args.seed)
    model.fit(
        as_images(splits["train"]),
        splits["train"].labels,
        validation_data=(as_images(splits["validation"]), splits["validation"].labels),
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=callbacks,
    )
    history = read_history(args.out)  # every epoch, those before a resume included

    best = read_model(best_path, f"delete {args.out} (or run with --start-over) to train again")
    test_loss, test_accuracy = best.evaluate(
        as_images(splits["test"]), splits["test"].labels, batch_size=512, verbose=0
    )
    best_index = best_epoch(history, "val_accuracy", "max")
    results = {
        "task": "classification",
        **run_metadata(),
        "train_seconds": round(history["elapsed_seconds"][-1], 1),
        "models": {
            "cnn": {
                "hyperparameters": {
                    "epochs": args.epochs,
                    "batch_size": args.batch_size,
                    "learning_rate": args.learning_rate,
                    "weight_decay": args.weight_decay,
                    "filters": list(encoder.filters),
                    "seed": args.seed,
                    "parameters": best.count_params(),
                },
                "best_epoch": best_index + 1,
                "validation": {"accuracy": history["val_accuracy"][best_index]},
                "test": {"accuracy": test_accuracy, "loss": test_loss},
            }
        },
    }
    atomic_write_json(args.results, results)
    print(f"test accuracy {test_accuracy:.4f} (best epoch {best_index + 1}); wrote {args.results}")


if __name__ == "__main__":
    run_main(main, interrupted="stopped: the same command resumes after the last completed epoch")
