"""Do the backends train alike? One model, the same weights and batches, step by step on each backend.

Builds one of a task's models (`--task`, `--model`) with the default
hyperparameters but without randomness (no dropout, no augmentation, so that
no backend's random numbers enter), saves it untrained, and trains a copy on
each backend, each in a process of its own, for `--steps` steps on the same
training batches, compiled as a final run is (AdamW, warm-up, cosine decay,
gradient clipping). A control run trains once more on TensorFlow with
oneDNN's kernels off (`TF_ENABLE_ONEDNN_OPTS=0`), which changes nothing but
the order of floating-point operations. Each run records every step's loss
(computed before that step's update); the results file gives, per run, the
first step whose loss differs from the TensorFlow run's by more than 1e-4
and by more than 1e-2 (relative). Writes
`experiments/results/findings/backend_drift.json`.

    python experiments/studies/study_backend_drift.py --data ../shared/data/mnist.npz
"""

import argparse
import os

from harness import benchmark_results, print_rows, rows_from_child

from mnist_vit.backends import BACKENDS, import_keras, installed_backends
from mnist_vit.command_line import ArgumentParser, bounded_int, check_writable, run_main
from mnist_vit.results import REFERENCE_BACKEND
from mnist_vit.settings import PUBLISHED_RESULTS
from mnist_vit.tasks import task_names

CONTROL = {"TF_ENABLE_ONEDNN_OPTS": "0"}  # the reference backend (TensorFlow), other float rounding
TOLERANCES = (1e-4, 1e-2)
SEQUENCE_SEED = 0


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sum", choices=task_names())
    parser.add_argument("--model", default="fc", help="one of the task's models (default: fc)")
    parser.add_argument("--steps", type=bounded_int(1, 10_000), default=60, help="training steps of each run")
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, help="backends to train on (default: every installed one)"
    )
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument("--out", default=os.path.join("runs", "backend_drift"), help="folder for the model")
    parser.add_argument(
        "--results",
        default=os.path.join(PUBLISHED_RESULTS, "findings", "backend_drift.json"),
        help="results file to write",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.backends = args.backends or list(installed_backends())
    if REFERENCE_BACKEND not in args.backends:
        parser.error(f"--backends must include {REFERENCE_BACKEND}, the run the others are measured against")
    return args


def deterministic_hyperparameters(task):
    """The task's default hyperparameters without dropout and augmentation."""
    from mnist_vit.hyperparameters import TrainingConfig
    from mnist_vit.search import default_values, trial_hyperparameters

    values = {**default_values(task), "augment": False, "encoder_dropout": 0.0, "dropout": 0.0}
    return trial_hyperparameters(task, values, TrainingConfig.batch_size)


def child_main(args):
    """Trains the saved model `--steps` steps on this process's backend; prints the losses as one row."""
    keras = import_keras()
    from mnist_vit.data import load_splits
    from mnist_vit.sequences import SequenceBatches
    from mnist_vit.tasks import get_task
    from mnist_vit.training import compile_for_task

    task = get_task(args.task)
    training = deterministic_hyperparameters(task).training
    model = keras.saving.load_model(os.path.join(args.out, "untrained.keras"))
    compile_for_task(task, model, training, args.steps)
    batches = SequenceBatches(
        load_splits(args.data)["train"],
        task,
        args.steps * training.batch_size,
        training.batch_size,
        seed=SEQUENCE_SEED,
        fresh=True,
    )
    losses = [
        float(model.train_on_batch(*batches[step], return_dict=True)["loss"]) for step in range(args.steps)
    ]
    print_rows([{"backend": keras.backend.backend(), "losses": losses}])


def first_step_apart(losses, reference, tolerance):
    """The first step (from 1) whose loss is over `tolerance` (relative) from `reference`'s; None if none."""
    for step, (loss, expected) in enumerate(zip(losses, reference, strict=True), start=1):
        if abs(loss - expected) > tolerance * abs(expected):
            return step
    return None


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    check_writable(os.path.dirname(os.path.abspath(args.results)))
    from mnist_vit.data import load_splits

    load_splits(args.data)  # a bad file is one error here, not one per backend
    keras = import_keras()
    from mnist_vit.safe_files import atomic_write_json
    from mnist_vit.tasks import get_task
    from mnist_vit.training import build_model

    task = get_task(args.task)
    task.check_model(args.model)
    keras.utils.set_random_seed(0)
    os.makedirs(args.out, exist_ok=True)
    model = build_model(task, args.model, deterministic_hyperparameters(task))
    model.save(os.path.join(args.out, "untrained.keras"))
    child_args = ["--task", args.task, "--steps", str(args.steps), "--out", args.out]
    child_args += ["--data", args.data] if args.data else []
    rows = []
    for backend, env in [(backend, {}) for backend in args.backends] + [(REFERENCE_BACKEND, CONTROL)]:
        print(f"training on {backend} {env or ''}: {args.steps} steps", flush=True)
        rows.append({**rows_from_child(__file__, backend, child_args, env=env)[0], "env": env})
    reference = rows[args.backends.index(REFERENCE_BACKEND)]["losses"]
    for row in rows:
        row["first_step_apart"] = {str(t): first_step_apart(row["losses"], reference, t) for t in TOLERANCES}
        print(
            f"{row['backend']:>10} {str(row['env'] or ''):>32}: first step apart from {REFERENCE_BACKEND} "
            f"{row['first_step_apart']}, last loss {row['losses'][-1]:.4f}"
        )
    settings = {
        "task": args.task,
        "model": args.model,
        "steps": args.steps,
        "hyperparameters": "defaults without dropout and augmentation",
    }
    atomic_write_json(args.results, benchmark_results(rows, settings))
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    run_main(main)
