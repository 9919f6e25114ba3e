"""How well does each encoder read digits when taught their labels? The ceiling of reading them from sums.

A model that learns from sums alone reads each digit right with probability p
(the linear probe of its encoder, `study_digit_reading.py`), and a sum of L
digits is exact with probability about p^L. The same encoder trained on the
digits' own labels shows how far p could go. For each encoder of `ENCODERS`
(`--encoders`) and each of `--seeds` seeds (0, 1, ...), this study runs
`experiments/train_classifier.py` with that encoder's conv blocks and the
script's own training (15 epochs, augmentation, an embedding of 128, the best
validation epoch tested on MNIST's 10,000 test images), and reports each
encoder's test accuracy per seed and as mean ± std, its parameters and its
training time per run.

Each run is the script itself, in a folder of its own under `--out`
(`<encoder>/seed_<n>`), so a stopped study resumes where it stopped: finished
runs are read back, an interrupted one resumes after its last completed
epoch. `--publish` writes `experiments/results/findings/supervised_ceiling.json`.

    python experiments/studies/study_supervised_ceiling.py --data ../shared/data/mnist.npz
"""

import os
import subprocess
import sys

from mnist_vit.command_line import (
    ArgumentParser,
    bounded_int,
    check_output_file,
    check_output_folder,
    positive_int,
    run_main,
)
from mnist_vit.data import load_splits
from mnist_vit.errors import UsageError
from mnist_vit.experiment import CLOCK_FILE
from mnist_vit.results import run_metadata, summarize
from mnist_vit.run_clock import RunClock
from mnist_vit.run_folder import read_json
from mnist_vit.safe_files import atomic_write_json
from mnist_vit.settings import PUBLISHED_RESULTS

EXPERIMENTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_CLASSIFIER = os.path.join(EXPERIMENTS, "train_classifier.py")
# Each encoder's conv blocks (`EncoderConfig.filters`): the tasks' own, twice its channels, and a third block.
ENCODERS = {"tasks": (16, 32), "wider": (32, 64), "deeper": (32, 64, 128)}
PUBLISHED = os.path.join(PUBLISHED_RESULTS, "findings", "supervised_ceiling.json")


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument(
        "--encoders", nargs="+", choices=list(ENCODERS), default=list(ENCODERS), help="encoders to train"
    )
    parser.add_argument("--seeds", type=bounded_int(1, 100), default=3, help="seeds 0, 1, ... per encoder")
    parser.add_argument("--epochs", type=positive_int, help="a run's epochs (default: train_classifier.py's)")
    parser.add_argument(
        "--train-images", type=positive_int, help="train on only the first N training images (quick checks)"
    )
    parser.add_argument("--out", default=os.path.join("runs", "supervised_ceiling"), help="the runs' folder")
    parser.add_argument("--publish", action="store_true", help=f"write {os.path.relpath(PUBLISHED)}")
    parser.add_argument("--results", help="results file (default <out>/results.json)")
    args = parser.parse_args(argv)
    args.results = args.results or (PUBLISHED if args.publish else os.path.join(args.out, "results.json"))
    return args


def run_folder(args, encoder, seed):
    """The folder of one run: `<out>/<encoder>/seed_<seed>`."""
    return os.path.join(args.out, encoder, f"seed_{seed}")


def train(args, encoder, seed):
    """Runs train_classifier.py for one encoder and seed (it resumes a stopped run); returns its results."""
    folder = run_folder(args, encoder, seed)
    results = os.path.join(folder, "results.json")
    if os.path.lexists(results):
        print(f"{encoder}, seed {seed}: finished earlier, reusing {results}", flush=True)
    else:
        command = [sys.executable, TRAIN_CLASSIFIER, "--filters", *map(str, ENCODERS[encoder])]
        command += ["--seed", str(seed), "--out", folder, "--results", results]
        for option in ("data", "epochs", "train_images"):
            if getattr(args, option) is not None:
                command += ["--" + option.replace("_", "-"), str(getattr(args, option))]
        print(f"{encoder} (conv blocks {ENCODERS[encoder]}), seed {seed}", flush=True)
        if subprocess.run(command).returncode != 0:
            raise UsageError(f"train_classifier.py failed for {encoder}, seed {seed} (its error is above)")
    written = read_json(results, f"delete {folder} to train it again")
    cnn = written["models"]["cnn"]
    return {
        "test_accuracy": cnn["test"]["accuracy"],
        "best_epoch": cnn["best_epoch"],
        "epochs": cnn["hyperparameters"]["epochs"],
        "parameters": cnn["hyperparameters"]["parameters"],
        "train_seconds": written["train_seconds"],
    }


def main(argv=None):
    args = parse_args(argv)
    check_output_folder(args.out, "run folder")
    check_output_file(args.results, "results file")
    load_splits(args.data)  # a missing or damaged data file is named before any run starts
    encoders = {}
    with RunClock(os.path.join(args.out, CLOCK_FILE)) as clock:
        for encoder in args.encoders:
            per_seed = [train(args, encoder, seed) for seed in range(args.seeds)]
            encoders[encoder] = {
                "filters": list(ENCODERS[encoder]),
                "per_seed": per_seed,
                "test": summarize(per_seed),
            }
            test = encoders[encoder]["test"]
            print(f"{encoder}: test accuracy {test['test_accuracy']:.4f} ± {test['test_accuracy_std']:.4f}")
        results = {
            "task": "classification",
            **run_metadata(),
            "wall_seconds": round(clock.seconds(), 1),
            "processes": clock.processes,
            "settings": {
                "seeds": list(range(args.seeds)),
                "train_images": args.train_images,
                "training": "train_classifier.py's, with each encoder's conv blocks",
            },
            "encoders": encoders,
        }
        atomic_write_json(args.results, results)
    print(f"wrote {args.results} ({results['wall_seconds'] / 60:.0f} minutes in all)")
    return 0


if __name__ == "__main__":
    run_main(main, interrupted="stopped: the same command resumes where it stopped")
