"""The main job: tune the Transformer of a sequence task, then train and test it against its baselines.

1. KerasTuner searches the Transformer's hyperparameters on the validation
   sequences (the test split is never looked at).
2. The best Transformer and the baselines (fully-connected; Deep Sets for the
   sum task) are trained with the same hyperparameters, for each seed, and
   evaluated once on the fixed test sequences.
3. Results go to `experiments/results/<task>.json`, figures to `figures/`,
   TensorBoard logs under `<out>/` (`tensorboard --logdir <out>`).

Running the same command again resumes: completed trials and finished
training runs are kept.

    python experiments/run_tuner.py --task sum --data ../shared/data/mnist.npz
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np

from mnist_vit.cli_errors import positive_int, run_main
from mnist_vit.data import load_splits
from mnist_vit.hypermodels import SequenceHyperModel
from mnist_vit.results import atomic_write_json, run_metadata
from mnist_vit.sequence_training import (
    applied_hyperparameters,
    evaluate_sequence_model,
    train_sequence_model,
)
from mnist_vit.sequences import MAX_LEN
from mnist_vit.tasks import get_task
from mnist_vit.tuning import TUNERS, make_tuner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Presets: "cpu" finishes on a 2-core machine; "large" is for bigger machines.
PRESETS = {
    "cpu": dict(trials=3, search_epochs=2, epochs=30, train_sequences=16000, seeds=1, batch_size=64),
    "large": dict(trials=20, search_epochs=10, epochs=60, train_sequences=50000, seeds=3, batch_size=64),
}
VALIDATION_SEQUENCES = 2000
TEST_SEQUENCES = 10000
LONG_LENGTHS = range(1, 51)
SEQUENCES_PER_LONG_LENGTH = 200


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sum", help="sum or anchor")
    parser.add_argument("--tuner", default="random", help=f"one of {', '.join(TUNERS)}")
    parser.add_argument("--preset", default="cpu", choices=sorted(PRESETS))
    parser.add_argument("--trials", type=positive_int, help="tuner trials")
    parser.add_argument("--search-epochs", type=positive_int, help="epochs per trial")
    parser.add_argument("--epochs", type=positive_int, help="epochs of each final model")
    parser.add_argument("--train-sequences", type=positive_int, help="fresh training sequences per epoch")
    parser.add_argument("--seeds", type=positive_int, help="seeds of the final training runs")
    parser.add_argument("--batch-size", type=positive_int)
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument("--out", help="folder for tuner state, checkpoints and TensorBoard logs (default runs/<task>)")
    parser.add_argument("--results", help="results file (default experiments/results/<task>.json)")
    parser.add_argument("--figures", default=os.path.join(ROOT, "figures"), help="folder for figures")
    args = parser.parse_args(argv)
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.out = args.out or os.path.join("runs", args.task)
    args.results = args.results or os.path.join(HERE, "results", f"{args.task}.json")
    return args


def check_writable(folder):
    """Creates `folder` if needed; raises OSError naming it when it cannot be written."""
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        raise OSError(f"output folder {folder} is not writable ({error.strerror})") from None


def search(task, args, splits):
    """Runs (or resumes) the search; returns the best hyperparameters and the best trials."""
    hypermodel = SequenceHyperModel(
        task, splits, args.train_sequences, VALIDATION_SEQUENCES, args.search_epochs, args.batch_size
    )
    tuner = make_tuner(
        args.tuner, hypermodel, task.monitor, task.mode, args.trials, args.search_epochs,
        directory=args.out, project_name=f"search_{args.tuner}",
    )
    tuner.search_space_summary()
    tuner.search(
        epochs=args.search_epochs,
        callbacks=[keras.callbacks.TensorBoard(os.path.join(args.out, "logs", "search"))],
        verbose=2,
    )
    trials = tuner.oracle.get_best_trials(num_trials=args.trials)
    for trial in trials:
        print(f"trial {trial.trial_id}: {task.monitor}={trial.score:.4f} {trial.hyperparameters.values}")
    best = tuner.get_best_hyperparameters(1)[0]
    best_trials = [
        {"trial_id": t.trial_id, "score": t.score, "hyperparameters": t.hyperparameters.values}
        for t in trials
    ]
    return hypermodel.hyperparameters(best), best_trials


def train_and_test(task, model_name, hyperparameters, splits, args, seed):
    """Trains one final model (or reuses a finished run) and returns its test metrics."""
    run_dir = os.path.join(args.out, "final", model_name, f"seed_{seed}")
    done = os.path.join(run_dir, "test.json")
    if os.path.exists(done):
        print(f"{model_name} seed {seed}: finished earlier, reusing {done}")
        with open(done) as f:
            return json.load(f)
    print(f"training {model_name}, seed {seed}, {args.epochs} epochs")
    start = time.time()
    model, _ = train_sequence_model(
        task, model_name, hyperparameters, splits, os.path.join(run_dir, "train"),
        args.epochs, args.train_sequences, VALIDATION_SEQUENCES, seed=seed,
    )
    seconds = time.time() - start
    metrics = evaluate_sequence_model(task, model_name, model, splits["test"], TEST_SEQUENCES)
    if task.name == "sum" and model_name not in task.fixed_slot_models:
        metrics["exact_accuracy_by_long_length"] = long_length_accuracy(task, model_name, model, splits["test"])
    metrics["train_seconds"] = round(seconds, 1)
    atomic_write_json(done, metrics)
    print(f"{model_name} seed {seed}: test {task.headline} {metrics[task.headline]:.4f} ({seconds:.0f}s)")
    return metrics


def long_length_accuracy(task, model_name, model, split):
    """Exact accuracy at each length 1..50 (trained on 1..10), on fixed test sequences."""
    accuracy = {}
    for length in LONG_LENGTHS:
        metrics = evaluate_sequence_model(
            task, model_name, model, split, SEQUENCES_PER_LONG_LENGTH,
            lengths=(length, length), seed=1000 + length,
        )
        accuracy[str(length)] = metrics["exact_accuracy"]
    return accuracy


def summarize(per_seed):
    """Mean and std over seeds of every scalar metric, and per-seed values."""
    summary = {}
    for key, value in per_seed[0].items():
        if isinstance(value, dict):
            summary[key] = {k: float(np.mean([s[key][k] for s in per_seed])) for k in value}
        else:
            values = [s[key] for s in per_seed]
            summary[key] = float(np.mean(values))
            summary[f"{key}_std"] = float(np.std(values))
    return summary


def main(argv=None):
    args = parse_args(argv)
    task = get_task(args.task)
    if args.tuner not in TUNERS:
        raise ValueError(f"Unknown tuner {args.tuner!r}; expected one of {tuple(TUNERS)}")
    for folder in (args.out, os.path.dirname(os.path.abspath(args.results)), args.figures):
        check_writable(folder)
    splits = load_splits(args.data)
    print(f"backend: {keras.backend.backend()}, task: {task.name}, tuner: {args.tuner}, seeds: 0..{args.seeds - 1}")
    print(f"TensorBoard: tensorboard --logdir {args.out}/logs")
    start = time.time()

    hyperparameters, best_trials = search(task, args, splits)
    print(f"best hyperparameters: {hyperparameters}")
    models = {}
    for model_name in task.builders:
        per_seed = [
            train_and_test(task, model_name, hyperparameters, splits, args, seed)
            for seed in range(args.seeds)
        ]
        models[model_name] = {
            "hyperparameters": {
                **applied_hyperparameters(task, model_name, hyperparameters),
                "epochs": args.epochs,
                "train_sequences_per_epoch": args.train_sequences,
            },
            "test": summarize(per_seed),
            "per_seed": per_seed,
        }
    results = {
        "task": task.name,
        **run_metadata(),
        "wall_seconds": round(time.time() - start, 1),
        "settings": {
            "preset": args.preset, "tuner": args.tuner, "trials": args.trials,
            "search_epochs": args.search_epochs, "epochs": args.epochs, "seeds": args.seeds,
            "max_len": MAX_LEN, "validation_sequences": VALIDATION_SEQUENCES,
            "test_sequences": TEST_SEQUENCES,
        },
        "search": {"objective": task.monitor, "best_trials": best_trials},
        "models": models,
    }
    atomic_write_json(args.results, results)
    print(f"wrote {args.results}")
    from mnist_vit import figures

    written = figures.write_task_figures(task.name, results, args.out, args.figures, splits["test"])
    print("figures: " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
