"""What the studies share: a study's settings, run and results file; per-backend benchmarks.

A study (`study_*.py`) runs the main job's pieces (`mnist_vit.experiment`)
with the task's `cpu` preset, shrunk by its budget options for tests
(`add_budget_options`, `study_settings`), and writes one results file
(`run_study`); `--publish` puts it among the committed results, in a folder
of its own off the reference backend (`on_this_backend`).

Benchmarks measure every backend, each in a child process of its own.
Keras picks its backend at import, so a benchmark script (`benchmark_*.py`)
runs itself once per backend with `--child` under `KERAS_BACKEND=<backend>`
(`measure_backends`); the child measures and prints its rows (`print_rows`),
and the parent gathers every backend's rows into one results file
(`write_benchmark`). A benchmark that times variants of one step against a
baseline variant hands the whole parent's side to `compare_to_baseline`.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

from mnist_vit.backends import BACKENDS, import_keras, installed_backends
from mnist_vit.command_line import (
    ArgumentParser,
    bounded_int,
    check_output_file,
    check_output_folder,
    check_writable,
    positive_int,
)
from mnist_vit.data import load_splits
from mnist_vit.errors import BackendError, UsageError
from mnist_vit.results import backend_folder, run_metadata
from mnist_vit.safe_files import atomic_write_json
from mnist_vit.settings import MAX_SEQUENCES, PUBLISHED_RESULTS, Settings, published_results
from mnist_vit.tasks import get_task, task_names

ROWS_PREFIX = "ROWS "
WARMUP_STEPS = 3
IMAGES = 352  # an encoder batch of the sum task: 64 sequences of 5.5 images on average
# The entries of a results file's model "hyperparameters" that are run settings, not `Hyperparameters`.
RUN_SETTINGS = ("epochs", "train_sequences_per_epoch")


def add_budget_options(parser, names):
    """Adds a study's options that shrink it for tests (e.g. `epochs` -> `--epochs`); none: the preset's."""
    for name in names:
        parser.add_argument(
            "--" + name.replace("_", "-"), type=bounded_int(1, MAX_SEQUENCES), help="overrides the preset"
        )


def study_parser(description, budget, published):
    """The options every study takes: `--task`, `--data`, `--out`, `--publish`, `--results` and its budget.

    Args:
        description: str. The script's one-line description.
        budget: the names of its budget options (`add_budget_options`).
        published: str. What `--publish` writes, for the help.

    Returns:
        An `ArgumentParser` (the script may add its own options); fill the
        defaults of `--out` and `--results` with `study_outputs`.
    """
    parser = ArgumentParser(description=description)
    parser.add_argument("--task", default="sum", choices=task_names())
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument("--out", help="folder for the study's runs (default runs/<study>)")
    parser.add_argument("--publish", action="store_true", help=f"write {published}")
    parser.add_argument("--results", help="results file (default <out>/results.json)")
    add_budget_options(parser, budget)
    return parser


def on_this_backend(path):
    """A committed file's `path` as this backend publishes it: in `<folder>/<backend>/` off the reference
    backend (`mnist_vit.results.backend_folder`), so that no other backend's run replaces the reference's."""
    folder = backend_folder(os.path.dirname(path), import_keras().backend.backend())
    return os.path.join(folder, os.path.basename(path))


def study_outputs(args, name, published):
    """Fills `args.out` (default `runs/<name>`) and `args.results` (`published` with `--publish`, in its
    backend's folder: `on_this_backend`)."""
    args.out = args.out or os.path.join("runs", name)
    if not args.results:
        args.results = on_this_backend(published) if args.publish else os.path.join(args.out, "results.json")
    return args


def study_settings(args, task, budget, **fixed):
    """The main job's `Settings` for a study's runs: the task's `cpu` preset, less the options given.

    `budget` names the study's budget options (`add_budget_options`);
    `fixed` are settings of the study's own (e.g. `trials`, or an `out` other than `args.out`).
    """
    given = {name: getattr(args, name) for name in budget if getattr(args, name) is not None}
    return Settings(**{"task": task.name, "out": args.out, **fixed, **given}).with_preset(task)


def hyperparameters_in(path, model):
    """The `Hyperparameters` that `model` trained with in the main job's results file `path`.

    Raises:
        UsageError: `path` is missing, unreadable, or holds no such model.
    """
    from mnist_vit.hyperparameters import Hyperparameters

    try:
        with open(path) as f:
            values = json.load(f)["models"][model]["hyperparameters"]
        return Hyperparameters.from_dict({k: v for k, v in values.items() if k not in RUN_SETTINGS})
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise UsageError(f"cannot read the {model}'s hyperparameters from {path} ({error})") from None


def committed_hyperparameters(task):
    """The `Hyperparameters` that the committed main job's search chose for `task` (reference backend)."""
    path = published_results(task.name)
    if not os.path.exists(path):
        raise UsageError(f"{path} does not exist: publish the main job's run of task {task.name} first")
    return hyperparameters_in(path, task.searched_model)


def finished_run_parser(description, name):
    """The options of a study that reads a finished main-job run.

    `--run`, `--sequences`, `--data`, `--publish` and `--results`; `name`
    names its results (`<run>/<name>.json`, or with `--publish`
    `experiments/results/findings/<name>_<task>.json`). Fill the defaults
    with `finished_run_outputs`.
    """
    parser = ArgumentParser(description=description)
    parser.add_argument("--run", help="the finished run folder of the main job (default runs/<task>)")
    parser.add_argument("--sequences", type=bounded_int(100, 1_000_000), default=4000, help="test sequences")
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument(
        "--publish", action="store_true", help=f"write experiments/results/findings/{name}_<task>.json"
    )
    parser.add_argument("--results", help=f"results file (default <run>/{name}.json)")
    return parser


def finished_run_outputs(args, name):
    """Fills `args.out` (`--run`, default `runs/<task>`) and `args.results` (see `finished_run_parser`)."""
    args.out = args.run or os.path.join("runs", args.task)
    published = os.path.join(PUBLISHED_RESULTS, "findings", f"{name}_{args.task}.json")
    if not args.results:
        args.results = on_this_backend(published) if args.publish else os.path.join(args.out, f"{name}.json")
    return args


def read_finished_model(path):
    """Loads a final model that `finished_models` found; a damaged one is one line naming what to delete."""
    from mnist_vit.run_folder import read_model

    return read_model(path, f"delete {os.path.dirname(os.path.dirname(path))} and rerun the main job")


def model_layer(model, name):
    """`model`'s layer `name`; a `UsageError` naming the model and the layer if it has none."""
    if name not in {layer.name for layer in model.layers}:
        raise UsageError(f"the model {model.name} has no {name!r} layer")
    return model.get_layer(name)


def finished_models(run, model_name):
    """Every seed's final model of `model_name` in the main job's run folder `run`: `[(seed, path)]`, by seed.

    Raises:
        UsageError: `run` holds no finished model of that name.
    """
    from mnist_vit.training import FINAL_MODEL, final_run_dir

    folder = os.path.dirname(final_run_dir(run, model_name, 0))
    names = os.listdir(folder) if os.path.isdir(folder) else []
    seeds = [int(name.removeprefix("seed_")) for name in names if name.removeprefix("seed_").isdigit()]
    paths = {seed: os.path.join(final_run_dir(run, model_name, seed), "train", FINAL_MODEL) for seed in seeds}
    found = sorted((seed, path) for seed, path in paths.items() if os.path.exists(path))
    if not found:
        raise UsageError(f"{run} holds no finished {model_name} model: run the main job first")
    return found


def tested_once(run_dir, model_file, cache, test):
    """`test(model)` of the run's saved model `run_dir/train/model_file`, cached in `run_dir/cache`.

    The first call loads the model, tests it and writes the returned JSON
    dict atomically; later calls read the cache. A damaged cache or model is
    one line naming what to delete.
    """
    from mnist_vit.run_folder import read_json, read_model

    done = os.path.join(run_dir, cache)
    if os.path.lexists(done):
        return read_json(done, f"delete {done} to test again")
    model = read_model(os.path.join(run_dir, "train", model_file), f"delete {run_dir} to train again")
    metrics = test(model)
    atomic_write_json(done, metrics)
    return metrics


def test_sequences(task, split, num_sequences):
    """Fixed test sequences padded to `MAX_LEN`, and their digits: `(batches, digits, mask)`.

    `batches` is a `SequenceBatches` (batches of 500); `digits` int `(n, MAX_LEN)` (-1 on padding) and
    `mask` bool `(n, MAX_LEN)` follow the order in which the batches serve the sequences.
    """
    import numpy as np

    from mnist_vit.sequences import MAX_LEN, TEST_SEED, SequenceBatches

    batches = SequenceBatches(split, task, num_sequences, batch_size=500, seed=TEST_SEED, pad_to=MAX_LEN)
    rows = batches.served_rows()
    mask = batches.sequences.mask[rows]
    digits = np.where(mask, split.labels[np.maximum(batches.sequences.indices[rows], 0)], -1)
    return batches, digits, mask


def answers_without_images(task, split, num_sequences, per_length=False):
    """What answering without looking at any image scores on the test sequences the main job tests on.

    Every sequence gets the most frequent target of the test sequences or, with `per_length`, of the test
    sequences of its own length: the best a model can do that only counts its images. Scored through the
    task's own test metrics.

    Returns:
        dict: `answer`, the answer given (float; with `per_length` `{str(length): float}`), and `test`, the
        task's test metrics of those answers (with `f"{task.headline}_by_length"`).
    """
    import numpy as np

    from mnist_vit.sequences import EVALUATION_BATCH_SIZE, TEST_SEED, SequenceBatches

    batches = SequenceBatches(split, task, num_sequences, EVALUATION_BATCH_SIZE, seed=TEST_SEED)
    targets, lengths = batches.served_targets(), batches.served_lengths()

    def most_frequent(chosen):
        values, counts = np.unique(targets[chosen], return_counts=True)
        return values[counts.argmax()]

    if per_length:
        answer = {str(length): float(most_frequent(lengths == length)) for length in np.unique(lengths)}
        given = np.array([answer[str(length)] for length in lengths], dtype="float32")
    else:
        answer = float(most_frequent(np.ones(len(targets), dtype=bool)))
        given = np.full(len(targets), answer, dtype="float32")
    return {"answer": answer, "test": task.test_metrics(given[:, None], targets, lengths)}


def run_study(args, study, made_by=None):
    """The `main` of a study script: checks its outputs, runs `study(task, args, splits)`, writes the results.

    `args` has `task`, `data`, `out` and `results`; returns the results dict.
    A study that trains into `args.out` gives `made_by(task, args)`: the
    `Settings` of its runs (`study_settings`) and a dict of anything else
    that decides them (JSON values, e.g. the hyperparameters). It then holds
    `args.out` as a `RunFolder` made with those, the backend and the data, so
    a rerun with any of them changed is refused by name instead of reusing
    runs made otherwise, and two processes never share the folder. A study
    that only reads a finished main-job run gives none.
    """
    check_output_folder(args.out, "run folder")
    check_output_file(args.results, "results file")
    splits = load_splits(args.data)
    keras = import_keras()
    task = get_task(args.task)
    folder = contextlib.nullcontext()
    if made_by is not None:
        from mnist_vit.run_folder import RunFolder

        settings, decided_by = made_by(task, args)
        decided = {**settings.folder_settings(keras.backend.backend(), splits), **decided_by}
        remedy = f"use a new --out, or delete {args.out} to start the study again"
        folder = RunFolder(args.out, decided, remedy=remedy)
    with folder:
        results = study(task, args, splits)
        atomic_write_json(args.results, results)
    return results


def study_results(task, seconds, settings, described, **fields):
    """A study's results file: the task, command and versions, its wall time over every process
    (`seconds`), its `"settings"` (the dict `described`, then the budget of its runs from `settings`, a
    `Settings`), the task's headline, and `fields`."""
    budget = {
        "epochs": settings.epochs,
        "train_sequences_per_epoch": settings.train_sequences,
        "validation_sequences": settings.validation_sequences,
        "test_sequences": settings.test_sequences,
    }
    return {
        "task": task.name,
        **run_metadata(),
        "wall_seconds": round(seconds, 1),
        "settings": {**described, **budget},
        "headline": task.headline,
        **fields,
    }


def benchmark_results(rows, settings):
    """A benchmark's results file: its rows, the machine, command, versions and its settings."""
    metadata = run_metadata()
    return {
        "results": rows,
        "machine": metadata["machine"],
        "command": metadata["command"],
        "versions": metadata["versions"],
        "settings": settings,
    }


def benchmark_parser(description, results, steps, rounds):
    """The options every benchmark script takes: `--steps`, `--rounds`, `--backends`, `--results`.

    Args:
        description: str. The script's one-line description.
        results: str. Default path of the results file.
        steps: int. Default steps per timed round.
        rounds: int. Default timed rounds.

    Returns:
        An `ArgumentParser` (the script may add its own options), with the
        hidden `--child` flag `measure_backends` sets.
    """
    parser = ArgumentParser(description=description)
    parser.add_argument("--steps", type=positive_int, default=steps, help="steps per timed round")
    parser.add_argument("--rounds", type=positive_int, default=rounds, help="timed rounds")
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, help="backends to measure (default: every installed one)"
    )
    parser.add_argument("--results", default=results, help="results file to write")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser


def time_steps(step, steps, rounds):
    """Median over `rounds` of the mean milliseconds of `step()` over `steps` calls, after a warm-up."""
    for _ in range(WARMUP_STEPS):
        step()
    means = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        means.append(1000 * (time.perf_counter() - start) / steps)
    return round(statistics.median(means), 2)


def add_ratio(rows, name, baseline_ms):
    """Sets `row[name]` to `row["ms_per_step"] / baseline_ms` (2 decimals) in every row; returns `rows`."""
    for row in rows:
        row[name] = round(row["ms_per_step"] / baseline_ms, 2)
    return rows


def print_rows(rows):
    """A child's result: the line `ROWS <json list>` that `rows_from_child` reads."""
    print(ROWS_PREFIX + json.dumps(rows), flush=True)


def rows_from_child(script, backend, args, env=None):
    """Runs `python script --child *args` under `KERAS_BACKEND=backend`; returns the rows it prints.

    `env` (a dict) adds environment variables for the child.

    The child prints its progress, then one line `ROWS <json list>`
    (`print_rows`); the other lines are passed on to this process's
    standard output.

    Raises:
        BackendError: the child failed or printed no rows.
    """
    command = [sys.executable, os.path.abspath(script), "--child", *args]
    done = subprocess.run(
        command,
        env={**os.environ, **(env or {}), "KERAS_BACKEND": backend},
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = done.stdout.splitlines()
    rows = [line for line in lines if line.startswith(ROWS_PREFIX)]
    for line in lines:
        if not line.startswith(ROWS_PREFIX):
            print(line)
    if done.returncode or not rows:
        raise BackendError(f"the {backend} measurement failed (exit code {done.returncode})")
    return json.loads(rows[-1][len(ROWS_PREFIX) :])


def measure_backends(script, args, child_args=()):
    """Yields `(backend, rows)` for each backend of `args.backends` (default: every installed one).

    Checks first that `args.results`'s folder can be written, so a long
    measurement never ends on an unwritable path. Each backend's rows come
    from `script`'s child (`rows_from_child`), run with `args.steps`,
    `args.rounds` and `child_args`.
    """
    check_writable(os.path.dirname(os.path.abspath(args.results)))
    for backend in args.backends or installed_backends():
        print(f"backend {backend}: {args.rounds} rounds of {args.steps} steps")
        yield (
            backend,
            rows_from_child(
                script, backend, ["--steps", str(args.steps), "--rounds", str(args.rounds), *child_args]
            ),
        )


def write_benchmark(args, rows, settings):
    """Writes the rows measured so far to `args.results` (`benchmark_results`).

    The scripts call it after each backend, so a backend that fails or a
    run stopped part-way keeps the rows of the backends that finished.
    `settings` is the script's own; the steps, rounds and statistic are added.
    """
    settings = {**settings, "steps": args.steps, "rounds": args.rounds, "statistic": "median round"}
    atomic_write_json(args.results, benchmark_results(rows, settings))
    print(f"wrote {args.results}")


def compare_to_baseline(script, args, column, baseline, ratio, settings, note=None):
    """The parent's side of a benchmark that times variants against a baseline variant, on each backend.

    Measures each backend (`measure_backends`), divides each of its rows'
    `ms_per_step` by the backend's baseline time (`add_ratio`), prints a line
    per row and writes the rows measured so far after each backend
    (`write_benchmark`), so a backend that fails keeps the ones before it.

    Args:
        script: str. The benchmark script (its `__file__`), run as the children.
        args: its parsed `benchmark_parser` options.
        column: str. The row key that names the variant a row times (e.g. `"layout"`).
        baseline: (str, callable). The baseline's label in the printed lines,
            and a predicate on a row; a backend's baseline time is the fastest
            of its rows that the predicate accepts.
        ratio: str. The row key that the ratio to the baseline goes into.
        settings: dict. The script's settings for the results file.
        note: callable row -> str, or None. Added to a row's printed line.

    Returns:
        The rows of every backend, in order.
    """
    label, is_baseline = baseline
    rows = []
    for backend, backend_rows in measure_backends(script, args):
        baseline_ms = min(row["ms_per_step"] for row in backend_rows if is_baseline(row))
        for row in add_ratio(backend_rows, ratio, baseline_ms):
            rows.append(row)
            extra = note(row) if note else ""
            print(
                f"{backend:>10} {row[column]:>24}: {row['ms_per_step']:8.2f} ms per step "
                f"({row[ratio]:.2f}x {label}{extra})"
            )
        write_benchmark(args, rows, settings)
    return rows
