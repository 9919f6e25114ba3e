"""The main job: tune the attention model of a sequence task, then train and test it against its baselines.

1. KerasTuner searches the attention model's hyperparameters on the fixed
   validation sequences (the test split is never looked at). The same
   `--seed` proposes the same trials in the same order.
2. The best attention model and the task's baselines are trained with the
   same hyperparameters, for each seed, and evaluated once on the fixed test
   sequences.
3. The results file and figures go into the run folder (`--out`, default
   `runs/<task>`), with TensorBoard logs (`tensorboard --logdir <out>`); the
   run's figures are compared with the committed reference (TensorFlow's,
   `experiments/results/<task>.json`). `--publish` replaces the committed
   results and figures of the backend that runs instead: TensorFlow's are
   the reference; JAX's and PyTorch's are `experiments/results/<backend>/`
   and `figures/<backend>/`.

Running the same command again resumes: completed trials and finished
training runs are kept, and the results file's `wall_seconds` counts the
time of every process of the run (`processes` says how many). The run
folder records the settings that decide its results (`run.json`): a rerun
with other settings is refused, naming them (`--start-over` deletes the
folder's runs and starts again; `--seeds` may grow), and one process at a
time uses a folder. Options, output paths and the data file are checked
before Keras is imported, so a mistake is reported at once and nothing is
written.

    python experiments/run_tuner.py --task sum --data ../shared/data/mnist.npz
"""

import json
import os
import sys

from mnist_vit.backends import import_keras
from mnist_vit.command_line import (
    MAX_SEED,
    ArgumentParser,
    bounded_int,
    check_output_file,
    check_output_folder,
    fraction,
    positive_int,
    run_main,
    seed_int,
)
from mnist_vit.data import load_splits
from mnist_vit.errors import RunFolderError, UsageError
from mnist_vit.results import (
    REFERENCE_BACKEND,
    backend_folder,
    best_epoch_value,
    compare_to_reference,
    run_metadata,
    seconds_to_reach,
    summarize,
    with_std,
)
from mnist_vit.run_clock import RunClock, read_clock
from mnist_vit.run_folder import RunFolder, data_fingerprint, read_json
from mnist_vit.safe_files import atomic_write_json
from mnist_vit.tasks import get_task, task_names

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PRESETS = ("cpu", "large")  # every task's `presets` has both
TUNERS = ("bayesian", "hyperband", "random")  # the keys of `mnist_vit.search.ORACLES` (which imports Keras)
PUBLISHED_FIGURES = os.path.join(ROOT, "figures")
MAX_SEQUENCES = 1_000_000  # per option: the fixed sets are held in memory as indices
MIN_VALIDATION_SEQUENCES = 32  # fewer cannot score a model (an AUC needs both answers)
RESUME_HINT = "stopped: nothing finished is lost; run the same command again to resume"
CLOCK_FILE = "clock.json"  # in the run folder: the job's wall-clock time over its processes (RunClock)
# What `--start-over` removes from the run folder: the search, the final runs, logs, clock and outputs.
RUN_ENTRIES = ("search_*", "final", "logs", CLOCK_FILE, "results.json", "figures")


def published_results(task_name, backend=REFERENCE_BACKEND):
    """The committed results file of a task's default run on `backend`.

    `REFERENCE_BACKEND`'s is the reference, `experiments/results/<task>.json`;
    another backend's is `experiments/results/<backend>/<task>.json`.
    """
    return os.path.join(backend_folder(os.path.join(HERE, "results"), backend), f"{task_name}.json")


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sum", choices=task_names())
    parser.add_argument("--tuner", default="random", choices=TUNERS)
    parser.add_argument("--preset", default="cpu", choices=PRESETS)
    parser.add_argument("--trials", type=positive_int, help="tuner trials")
    parser.add_argument("--search-epochs", type=positive_int, help="epochs per trial")
    parser.add_argument(
        "--search-margin",
        type=fraction,
        help="keep the defaults unless a trial's score beats theirs by more than this",
    )
    parser.add_argument("--epochs", type=positive_int, help="epochs of each final model")
    parser.add_argument(
        "--train-sequences", type=bounded_int(1, MAX_SEQUENCES), help="fresh training sequences per epoch"
    )
    parser.add_argument("--seeds", type=positive_int, help="seeds of the final training runs")
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        help="seed of the search; final runs use seed, seed+1, ...",
    )
    parser.add_argument("--batch-size", type=positive_int)
    parser.add_argument(
        "--validation-sequences",
        type=bounded_int(MIN_VALIDATION_SEQUENCES, MAX_SEQUENCES),
        default=2000,
        help="fixed validation sequences",
    )
    parser.add_argument(
        "--test-sequences",
        type=bounded_int(1, MAX_SEQUENCES),
        default=10000,
        help="fixed test sequences of lengths 1..10 (lengths 1..50 get 1/50 of this each)",
    )
    parser.add_argument("--search-only", action="store_true", help="stop after the search")
    parser.add_argument(
        "--data-parallel",
        action="store_true",
        help="train data-parallel on every local device (jax: keras.distribution.DataParallel, "
        "tensorflow: tf.distribute.MirroredStrategy)",
    )
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument(
        "--out", help="folder for tuner state, checkpoints, logs, results and figures (default runs/<task>)"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write the results file and figures over the committed ones of this backend "
        "(tensorflow: experiments/results/<task>.json and figures/; jax, torch: "
        "experiments/results/<backend>/<task>.json and figures/<backend>/)",
    )
    parser.add_argument(
        "--start-over",
        action="store_true",
        help="delete the run folder's search, final runs and clock, then run afresh (e.g. after "
        "changing settings)",
    )
    parser.add_argument("--results", help="results file (default <out>/results.json)")
    parser.add_argument("--figures", help="folder for figures (default <out>/figures)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = os.path.join("runs", args.task)
    if not args.publish:  # the published paths depend on the backend: `publish_to`, once Keras is imported
        publish_to(args, None)
    return args


def publish_to(args, backend):
    """Sets the results file and figures folder not given on the command line.

    With `backend` None, the run folder's (`<out>/results.json`,
    `<out>/figures`); else, for `--publish`, that backend's committed ones.
    """
    if args.results is None:
        args.results = (
            os.path.join(args.out, "results.json")
            if backend is None
            else published_results(args.task, backend)
        )
    if args.figures is None:
        args.figures = (
            os.path.join(args.out, "figures")
            if backend is None
            else backend_folder(PUBLISHED_FIGURES, backend)
        )


def apply_preset(args, task):
    """Fills the run settings not given on the command line from the task's preset.

    A preset without `search_margin` keeps the best trial (margin 0).
    """
    for key, value in {"search_margin": 0.0, **task.presets[args.preset]}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def check_outputs(args):
    """Raises UsageError, before any work, for an output path that cannot be written.

    The results file must be a regular file or a missing path in a writable
    folder (never a folder, device or pipe); `--out` and `--figures` must
    be folders or missing, and the task's figures (`<task>_*.png`) in the
    figures folder regular files or missing. Creates nothing.
    """
    import glob

    check_output_folder(args.out, "run folder")
    check_output_file(args.results, "results file")
    figures = [
        os.path.basename(path)
        for path in glob.glob(os.path.join(glob.escape(args.figures), f"{args.task}_*.png"))
    ]
    check_output_folder(args.figures, "figures folder", figures, file_what="figure")


def check_seeds(args):
    """Raises UsageError when the final runs' seeds (`--seed` .. `--seed + --seeds - 1`) pass `MAX_SEED`."""
    last = args.seed + args.seeds - 1
    if last > MAX_SEED:
        raise UsageError(
            f"--seed {args.seed} with --seeds {args.seeds} needs seeds up to {last:,}; "
            f"the largest is {MAX_SEED:,}"
        )


def folder_settings(task, args, backend, splits):
    """The settings that decide a run folder's results (`RunFolder`); `--seeds` is not one of them.

    Each seed's final run is a folder of its own, so a rerun with more (or
    fewer) seeds reuses those already finished.
    """
    return {
        "task": task.name,
        "backend": backend,
        "data": data_fingerprint(splits),
        "data_parallel": args.data_parallel,
        **{
            key: getattr(args, key)
            for key in (
                "preset", "tuner", "trials", "search_epochs", "search_margin", "epochs", "train_sequences",
                "batch_size", "seed", "validation_sequences", "test_sequences",
            )
        },
    }  # fmt: skip


def is_worker():
    """True in a distributed-tuning worker (KERASTUNER_TUNER_ID set, not "chief")."""
    return os.environ.get("KERASTUNER_TUNER_ID", "chief") != "chief"


def search(task, args, splits):
    """Runs (or resumes) the search.

    Returns:
        `(hyperparameters, trials, chosen_id)`: the chosen trial's
        `Hyperparameters` (`mnist_vit.search.chosen_trial`), the trials best
        first (dicts), the chosen trial's id; `(None, None, None)` in a
        distributed-tuning worker.
    """
    import glob

    import keras

    from mnist_vit.search import SequenceHyperModel, chosen_trial, default_values, make_tuner

    hypermodel = SequenceHyperModel(
        task,
        splits,
        args.train_sequences,
        args.validation_sequences,
        args.search_epochs,
        args.batch_size,
        seed=args.seed,
    )
    project = f"search_{args.tuner}"
    folder = os.path.join(args.out, project)
    remedy = f"delete {folder} to search again (or run with --start-over)"
    for path in glob.glob(os.path.join(glob.escape(folder), "**", "*.json"), recursive=True):
        read_json(path, remedy)  # a damaged file of the search is named before KerasTuner reads it
    try:
        tuner = make_tuner(
            args.tuner,
            hypermodel,
            task.monitor,
            task.mode,
            args.trials,
            args.search_epochs,
            directory=args.out,
            project_name=project,
            seed=args.seed,
        )
    except Exception as error:  # KerasTuner reloads the saved search here and raises many types
        if not os.path.isdir(folder):
            raise
        raise RunFolderError(f"the search in {folder} cannot be resumed ({error}); {remedy}") from None
    tuner.search_space_summary()
    tuner.search(
        epochs=args.search_epochs,
        callbacks=[keras.callbacks.TensorBoard(os.path.join(args.out, "logs", "search"))],
        verbose=2,
    )
    if is_worker():
        return None, None, None
    trials = tuner.oracle.get_best_trials(num_trials=args.trials)
    scored = [trial for trial in trials if trial.score is not None]
    if not scored:
        raise UsageError(
            f"no trial has a {task.monitor} score (too few validation sequences to score? "
            f"--validation-sequences is {args.validation_sequences})"
        )
    for trial in trials:
        score = "n/a" if trial.score is None else f"{trial.score:.4f}"
        print(f"trial {trial.trial_id}: {task.monitor}={score} {trial.hyperparameters.values}")
    best_trials = [
        {"trial_id": t.trial_id, "score": t.score, "hyperparameters": t.hyperparameters.values}
        for t in trials
    ]
    chosen = chosen_trial(
        [t for t in best_trials if t["score"] is not None],
        default_values(task),
        task.mode,
        args.search_margin,
    )
    print(f"chosen: trial {chosen['trial_id']} (search margin {args.search_margin})")
    chosen_hp = next(t.hyperparameters for t in trials if t.trial_id == chosen["trial_id"])
    return hypermodel.hyperparameters(chosen_hp), best_trials, chosen["trial_id"]


def run_study(args, study):
    """The `main` of a study script: checks its outputs, runs `study(task, args, splits)`, writes the results.

    `args` has `task`, `data`, `out` and `results`; returns the results dict.
    """
    check_output_folder(args.out, "run folder")
    check_output_file(args.results, "results file")
    splits = load_splits(args.data)
    import_keras()
    task = get_task(args.task)
    results = study(task, args, splits)
    atomic_write_json(args.results, results)
    return results


def train_seed(task, model_name, hyperparameters, splits, settings, seed):
    """Trains one seed's final run; returns `(model, history)`.

    The run's folder is `final_run_dir(settings.out, model_name, seed)`;
    `settings` has `out`, `epochs`, `train_sequences` and `validation_sequences`.
    """
    from mnist_vit.training import final_run_dir, train_sequence_model

    print(f"training {model_name}, seed {seed}, {settings.epochs} epochs", flush=True)
    return train_sequence_model(
        task,
        model_name,
        hyperparameters,
        splits,
        os.path.join(final_run_dir(settings.out, model_name, seed), "train"),
        settings.epochs,
        settings.train_sequences,
        settings.validation_sequences,
        seed=seed,
    )


def train_and_test(task, model_name, hyperparameters, splits, args, seed):
    """Trains one final model (or reuses a finished run) and returns its test metrics."""
    from mnist_vit.training import final_run_dir, test_metrics

    run_dir = final_run_dir(args.out, model_name, seed)
    done = os.path.join(run_dir, "test.json")
    if os.path.lexists(done):
        print(f"{model_name} seed {seed}: finished earlier, reusing {done}")
        remedy = f"delete {run_dir} to train and test this model again"
        metrics = read_json(done, remedy)
        if not isinstance(metrics.get(task.headline), (int, float)):
            raise RunFolderError(f"{done} is damaged (it has no {task.headline}); {remedy}")
        return metrics
    model, history = train_seed(task, model_name, hyperparameters, splits, args, seed)
    seconds = history["elapsed_seconds"][-1]  # every epoch's, over resumed processes too
    metrics = test_metrics(task, model_name, model, splits["test"], args.test_sequences)
    metrics[f"best_{task.monitor}"] = best_epoch_value(history, task.monitor, task.mode)
    metrics["train_seconds"] = round(seconds, 1)
    metrics["seconds_to_validation"] = seconds_to_reach(history, task.monitor, (0.9, 0.95, 0.98))
    atomic_write_json(done, metrics)
    print(f"{model_name} seed {seed}: test {task.headline} {metrics[task.headline]:.4f} ({seconds:.0f}s)")
    return metrics


def compare_with_reference(task, models, reference_path):
    """Lines that set each model's key test figures (mean ± std) beside the reference's, with a verdict.

    A figure agrees when the two means are within twice the reference's
    std over seeds (`mnist_vit.results.compare_to_reference`).
    """
    if not os.path.isfile(reference_path):
        return []
    with open(reference_path) as f:
        reference = json.load(f)
    lines = [
        f"compared with the reference {reference_path} ({reference['backend']}, "
        f"{reference['settings']['seeds']} seed(s)):"
    ]
    for name, key, verdict in compare_to_reference(task, models, reference["models"]):
        mine, ref = models[name]["test"], reference["models"][name]["test"]
        lines.append(f"  {name} {key}: {with_std(mine, key)}, reference {with_std(ref, key)}: {verdict}")
    return lines


def main(argv=None):
    args = parse_args(argv)
    if args.publish:  # Keras says which backend runs (KERAS_BACKEND or keras.json), hence where to publish
        publish_to(args, import_keras().backend.backend())
    check_outputs(args)
    if not is_worker() and not args.start_over:
        read_clock(os.path.join(args.out, CLOCK_FILE))  # a damaged clock is reported before any work
    splits = load_splits(args.data)
    keras = import_keras()
    from mnist_vit.data_parallel import data_parallel
    from mnist_vit.sequences import EVALUATION_BATCH_SIZE

    task = get_task(args.task)
    apply_preset(args, task)
    check_seeds(args)
    settings = folder_settings(task, args, keras.backend.backend(), splits)
    role = os.environ.get("KERASTUNER_TUNER_ID", "chief")
    if args.start_over and is_worker():
        raise UsageError("--start-over is for the chief of a distributed search, not a worker")
    with RunFolder(args.out, settings, start_over=args.start_over, entries=RUN_ENTRIES, role=role):
        if not args.data_parallel:
            return run(task, args, splits)
        with data_parallel([args.batch_size, EVALUATION_BATCH_SIZE]) as devices:
            print(f"data-parallel training on {devices} devices")
            return run(task, args, splits)


def run(task, args, splits):
    """Search, final training runs, results file, figures; returns the exit code."""
    import keras

    from mnist_vit.figures import write_task_figures

    seeds = range(args.seed, args.seed + args.seeds)
    print(f"backend: {keras.backend.backend()}, task: {task.name}, tuner: {args.tuner}, seeds: {list(seeds)}")
    print(f"TensorBoard: tensorboard --logdir {args.out}")
    if is_worker():
        search(task, args, splits)
        print(f"worker {os.environ['KERASTUNER_TUNER_ID']}: search finished")
        return 0
    with RunClock(os.path.join(args.out, CLOCK_FILE)) as clock:
        hyperparameters, best_trials, chosen_id = search(task, args, splits)
        print(f"best hyperparameters: {hyperparameters.to_dict()}")
        if args.search_only:
            return 0
        models = {}
        for model_name in task.models:
            per_seed = [
                train_and_test(task, model_name, hyperparameters, splits, args, seed) for seed in seeds
            ]
            models[model_name] = {
                "hyperparameters": {
                    **hyperparameters.to_dict(),
                    "epochs": args.epochs,
                    "train_sequences_per_epoch": args.train_sequences,
                },
                "test": summarize(per_seed),
                "per_seed": per_seed,
            }
        results = job_results(task, args, clock, best_trials, chosen_id, models)
    atomic_write_json(args.results, results)
    print(f"wrote {args.results}")
    written = write_task_figures(task, results, args.out, args.figures, splits["test"])
    print("figures: " + ", ".join(written))
    if not args.publish or keras.backend.backend() != REFERENCE_BACKEND:
        for line in compare_with_reference(task, models, published_results(task.name)):
            print(line)
    return 0


def job_results(task, args, clock, best_trials, chosen_id, models):
    """The results file's content: the run's metadata, time, settings, search and each model's test results.

    `wall_seconds` is the job's wall-clock time over all its processes
    (`clock`, a `RunClock`); `processes` is 1 unless it was stopped and resumed.
    """
    from mnist_vit.sequences import MAX_LEN

    return {
        "task": task.name,
        **run_metadata(),
        "wall_seconds": round(clock.seconds(), 1),
        "processes": clock.processes,
        "settings": {
            "preset": args.preset,
            "tuner": args.tuner,
            "trials": args.trials,
            "search_epochs": args.search_epochs,
            "search_margin": args.search_margin,
            "epochs": args.epochs,
            "seed": args.seed,
            "seeds": args.seeds,
            "max_len": MAX_LEN,
            "validation_sequences": args.validation_sequences,
            "test_sequences": args.test_sequences,
        },
        "search": {"objective": task.monitor, "chosen_trial": chosen_id, "best_trials": best_trials},
        "models": models,
    }


if __name__ == "__main__":
    sys.exit(run_main(main, interrupted=RESUME_HINT))
