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

import json
import os
import sys
import time

import keras
import numpy as np

from mnist_vit.cli_errors import ArgumentParser, check_writable, positive_int, run_main
from mnist_vit.data import load_splits
from mnist_vit.distribution import use_data_parallel
from mnist_vit.hypermodels import SequenceHyperModel
from mnist_vit.results import atomic_write_json, run_metadata
from mnist_vit.sequence_training import (
    applied_hyperparameters,
    evaluate_sequence_model,
    train_sequence_model,
)
from mnist_vit.sequences import EVALUATION_BATCH_SIZE, MAX_LEN
from mnist_vit.tasks import get_task
from mnist_vit.tuning import ORACLES, make_tuner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Presets: "cpu" finishes a task in about 45 minutes on a 2-core machine;
# "large" is for bigger machines. The anchor model needs a few epochs before
# trials can be told apart, the sum model's baselines take longer per epoch.
PRESETS = {
    "cpu": {
        "sum": dict(trials=3, search_epochs=2, epochs=24, train_sequences=16000, seeds=1, batch_size=64),
        "anchor": dict(trials=3, search_epochs=5, epochs=30, train_sequences=16000, seeds=1, batch_size=64),
    },
    "large": {
        task: dict(trials=20, search_epochs=10, epochs=60, train_sequences=50000, seeds=3, batch_size=64)
        for task in ("sum", "anchor")
    },
}
LONG_LENGTHS = range(1, 51)


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sum", choices=("sum", "anchor"))
    parser.add_argument("--tuner", default="random", choices=sorted(ORACLES))
    parser.add_argument("--preset", default="cpu", choices=sorted(PRESETS))
    parser.add_argument("--trials", type=positive_int, help="tuner trials")
    parser.add_argument("--search-epochs", type=positive_int, help="epochs per trial")
    parser.add_argument("--epochs", type=positive_int, help="epochs of each final model")
    parser.add_argument("--train-sequences", type=positive_int, help="fresh training sequences per epoch")
    parser.add_argument("--seeds", type=positive_int, help="seeds of the final training runs")
    parser.add_argument("--batch-size", type=positive_int)
    parser.add_argument(
        "--validation-sequences", type=positive_int, default=2000, help="fixed validation sequences"
    )
    parser.add_argument(
        "--test-sequences",
        type=positive_int,
        default=10000,
        help="fixed test sequences of lengths 1..10 (lengths 1..50 get 1/50 of this each)",
    )
    parser.add_argument("--search-only", action="store_true", help="stop after the search")
    parser.add_argument(
        "--data-parallel",
        action="store_true",
        help="train data-parallel on every local accelerator (jax backend, keras.distribution.DataParallel)",
    )
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument(
        "--out", help="folder for tuner state, checkpoints and TensorBoard logs (default runs/<task>)"
    )
    parser.add_argument("--results", help="results file (default experiments/results/<task>.json)")
    parser.add_argument("--figures", default=os.path.join(ROOT, "figures"), help="folder for figures")
    args = parser.parse_args(argv)
    for key, value in PRESETS[args.preset][args.task].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.out = args.out or os.path.join("runs", args.task)
    args.results = args.results or os.path.join(HERE, "results", f"{args.task}.json")
    return args


def is_worker():
    """True in a distributed-tuning worker (KERASTUNER_TUNER_ID set, not "chief")."""
    return os.environ.get("KERASTUNER_TUNER_ID", "chief") != "chief"


def search(task, args, splits):
    """Runs (or resumes) the search; returns the best hyperparameters and the best trials."""
    hypermodel = SequenceHyperModel(
        task, splits, args.train_sequences, args.validation_sequences, args.search_epochs, args.batch_size
    )
    tuner = make_tuner(
        args.tuner,
        hypermodel,
        task.monitor,
        task.mode,
        args.trials,
        args.search_epochs,
        directory=args.out,
        project_name=f"search_{args.tuner}",
    )
    tuner.search_space_summary()
    tuner.search(
        epochs=args.search_epochs,
        callbacks=[keras.callbacks.TensorBoard(os.path.join(args.out, "logs", "search"))],
        verbose=2,
    )
    if is_worker():
        return None, None
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
    model, history = train_sequence_model(
        task,
        model_name,
        hyperparameters,
        splits,
        os.path.join(run_dir, "train"),
        args.epochs,
        args.train_sequences,
        args.validation_sequences,
        seed=seed,
    )
    seconds = time.time() - start
    metrics = evaluate_sequence_model(task, model, splits["test"], args.test_sequences)
    if task.name == "sum" and model_name not in task.fixed_slot_models:
        metrics["exact_accuracy_by_long_length"] = long_length_accuracy(
            task, model, splits["test"], max(1, args.test_sequences // len(LONG_LENGTHS))
        )
    metrics["train_seconds"] = round(seconds, 1)
    metrics["seconds_to_validation"] = seconds_to_reach(history.history, task.monitor, (0.9, 0.95, 0.98))
    atomic_write_json(done, metrics)
    print(f"{model_name} seed {seed}: test {task.headline} {metrics[task.headline]:.4f} ({seconds:.0f}s)")
    return metrics


def seconds_to_reach(history, monitor, thresholds):
    """Seconds of training until `monitor` first reached each threshold (None: never)."""
    reached = {}
    for threshold in thresholds:
        epochs = [i for i, value in enumerate(history[monitor]) if value >= threshold]
        reached[str(threshold)] = round(history["elapsed_seconds"][epochs[0]], 1) if epochs else None
    return reached


def long_length_accuracy(task, model, split, per_length):
    """Exact accuracy at each length 1..50 (trained on 1..10), on `per_length` fixed test sequences each."""
    accuracy = {}
    for length in LONG_LENGTHS:
        metrics = evaluate_sequence_model(
            task,
            model,
            split,
            per_length,
            lengths=(length, length),
            seed=1000 + length,
        )
        accuracy[str(length)] = metrics["exact_accuracy"]
    return accuracy


def _mean_or_none(values):
    """Mean of the values that are not None (e.g. a threshold never reached); None if there are none."""
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def summarize(per_seed):
    """Mean and std over seeds of every scalar metric, and per-seed values."""
    summary = {}
    for key, value in per_seed[0].items():
        if isinstance(value, dict):
            summary[key] = {k: _mean_or_none([s[key][k] for s in per_seed]) for k in value}
        else:
            values = [s[key] for s in per_seed]
            summary[key] = float(np.mean(values))
            summary[f"{key}_std"] = float(np.std(values))
    return summary


def main(argv=None):
    args = parse_args(argv)
    task = get_task(args.task)
    for folder in (args.out, os.path.dirname(os.path.abspath(args.results)), args.figures):
        check_writable(folder)
    if args.data_parallel:
        devices = use_data_parallel([args.batch_size, EVALUATION_BATCH_SIZE])
        print(f"data-parallel training on {devices} devices")
    splits = load_splits(args.data)
    print(
        f"backend: {keras.backend.backend()}, task: {task.name}, tuner: {args.tuner}, "
        f"seeds: 0..{args.seeds - 1}"
    )
    print(f"TensorBoard: tensorboard --logdir {args.out}")
    start = time.time()

    hyperparameters, best_trials = search(task, args, splits)
    if hyperparameters is None:
        print(f"worker {os.environ['KERASTUNER_TUNER_ID']}: search finished")
        return 0
    print(f"best hyperparameters: {hyperparameters}")
    if args.search_only:
        return 0
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
            "preset": args.preset,
            "tuner": args.tuner,
            "trials": args.trials,
            "search_epochs": args.search_epochs,
            "epochs": args.epochs,
            "seeds": args.seeds,
            "max_len": MAX_LEN,
            "validation_sequences": args.validation_sequences,
            "test_sequences": args.test_sequences,
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
