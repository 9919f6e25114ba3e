"""The main job as a library call: search, final models over seeds, test, results file and figures.

    from mnist_vit.experiment import run_experiment
    from mnist_vit.settings import Settings
    results = run_experiment(Settings(task="anchor", data="mnist.npz"))

1. KerasTuner searches the attention model's hyperparameters on the fixed
   validation sequences (the test split is never looked at). The same
   `seed` proposes the same trials in the same order.
2. The best attention model and the task's baselines are trained with the
   same hyperparameters, for each seed, and evaluated once on the fixed test
   sequences.
3. The results file and figures go into the run folder (`out`), with
   TensorBoard logs; the run's figures are compared with the committed
   reference (TensorFlow's, `experiments/results/<task>.json`).

Running the same settings again resumes: completed trials and finished
training runs are kept, and the results file's `wall_seconds` counts the
time of every process of the run (`processes` says how many). The run
folder records the settings that decide its results (`run.json`): a rerun
with other settings is refused, naming them (`start_over` deletes the
folder's runs and starts again; `seeds` may grow), and one process at a
time uses a folder. Output paths and the data file are checked before
Keras is imported.
"""

import os

from mnist_vit.backends import import_keras
from mnist_vit.data import load_splits
from mnist_vit.errors import RunFolderError, UsageError
from mnist_vit.results import (
    REFERENCE_BACKEND,
    best_epoch_value,
    compare_to_reference,
    run_metadata,
    seconds_to_reach,
    summarize,
    with_std,
)
from mnist_vit.run_clock import RunClock, read_clock
from mnist_vit.run_folder import RunFolder, read_json
from mnist_vit.safe_files import atomic_write_json
from mnist_vit.settings import published_results
from mnist_vit.tasks import get_task

RESUME_HINT = "stopped: nothing finished is lost; run the same command again to resume"
CLOCK_FILE = "clock.json"  # in the run folder: the job's wall-clock time over its processes (RunClock)
# What `start_over` removes from the run folder: the search, the final runs, logs, clock and outputs.
RUN_ENTRIES = ("search_*", "final", "logs", CLOCK_FILE, "results.json", "figures")


def is_worker():
    """True in a distributed-tuning worker (KERASTUNER_TUNER_ID set, not "chief")."""
    return os.environ.get("KERASTUNER_TUNER_ID", "chief") != "chief"


def search_files_read_back(folder):
    """The JSON files of the search in `folder` that this process reads back when it starts.

    The chief reloads all of them (the oracle and every trial). A
    distributed-search worker reads only its own tuner file
    (`<KERASTUNER_TUNER_ID>.json`): the chief and the other workers rewrite
    the rest while it runs, so one of them caught half-written is not damage.
    """
    import glob

    if is_worker():
        own = os.path.join(folder, f"{os.environ['KERASTUNER_TUNER_ID']}.json")
        return [own] if os.path.lexists(own) else []
    return sorted(glob.glob(os.path.join(glob.escape(folder), "**", "*.json"), recursive=True))


def run_experiment(settings):
    """Runs (or resumes) the main job with `settings` (`mnist_vit.settings.Settings`).

    Returns:
        The results file's content (a dict, also written to
        `settings.results`), or None after a search only or in a
        distributed-tuning worker.

    Raises:
        UsageError, RunFolderError, DataError: one line naming the problem;
            nothing is lost (a rerun resumes).
    """
    backend = import_keras().backend.backend() if settings.publish else None  # where to publish
    settings = settings.with_paths(backend)
    settings.check_outputs()
    if settings.start_over and is_worker():
        raise UsageError("--start-over is for the chief of a distributed search, not a worker")
    if not is_worker() and not settings.start_over:
        read_clock(os.path.join(settings.out, CLOCK_FILE))  # a damaged clock is reported before any work
    splits = load_splits(settings.data)
    keras = import_keras()
    from mnist_vit.data_parallel import data_parallel
    from mnist_vit.sequences import EVALUATION_BATCH_SIZE

    task = get_task(settings.task)
    settings = settings.with_preset(task)
    folder = RunFolder(
        settings.out,
        settings.folder_settings(keras.backend.backend(), splits),
        start_over=settings.start_over,
        entries=RUN_ENTRIES,
        role=os.environ.get("KERASTUNER_TUNER_ID", "chief"),
    )
    with folder:
        if not settings.data_parallel:
            return run(task, settings, splits)
        with data_parallel([settings.batch_size, EVALUATION_BATCH_SIZE]) as devices:
            print(f"data-parallel training on {devices} devices")
            return run(task, settings, splits)


def run(task, settings, splits):
    """Search, final training runs, results file, figures; returns the results (None: no final runs)."""
    import keras

    from mnist_vit.figures import write_task_figures

    seeds = range(settings.seed, settings.seed + settings.seeds)
    backend = keras.backend.backend()
    print(f"backend: {backend}, task: {task.name}, tuner: {settings.tuner}, seeds: {list(seeds)}")
    print(f"TensorBoard: tensorboard --logdir {settings.out}")
    if is_worker():
        search(task, settings, splits)
        print(f"worker {os.environ['KERASTUNER_TUNER_ID']}: search finished")
        return None
    with RunClock(os.path.join(settings.out, CLOCK_FILE)) as clock:
        hyperparameters, best_trials, chosen_id = search(task, settings, splits)
        print(f"best hyperparameters: {hyperparameters.to_dict()}")
        if settings.search_only:
            return None
        models = {}
        for model_name in task.models:
            per_seed = [
                train_and_test(task, model_name, hyperparameters, splits, settings, seed) for seed in seeds
            ]
            spec = task.models[model_name]
            models[model_name] = {
                "kind": spec.kind,
                "positions": spec.positions,
                "hyperparameters": {
                    **hyperparameters.to_dict(),
                    "epochs": settings.epochs,
                    "train_sequences_per_epoch": settings.train_sequences,
                },
                "test": summarize(per_seed),
                "per_seed": per_seed,
            }
        results = job_results(task, settings, clock, best_trials, chosen_id, models)
    atomic_write_json(settings.results, results)
    print(f"wrote {settings.results}")
    written = write_task_figures(task, results, settings.out, settings.figures, splits["test"])
    print("figures: " + ", ".join(written))
    if not settings.publish or backend != REFERENCE_BACKEND:
        for line in compare_with_reference(task, models, published_results(task.name)):
            print(line)
    return results


def hypermodel_for(task, settings, splits, seed):
    """The search's `SequenceHyperModel` for `task` under `settings`, its trials' random state from `seed`."""
    from mnist_vit.search import SequenceHyperModel

    return SequenceHyperModel(
        task,
        splits,
        settings.train_sequences,
        settings.validation_sequences,
        settings.search_epochs,
        settings.batch_size,
        seed=seed,
        pool=settings.train_pool,
    )


def search(task, settings, splits):
    """Runs (or resumes) the search.

    Returns:
        `(hyperparameters, trials, chosen_id)`: the chosen trial's
        `Hyperparameters` (`mnist_vit.search.chosen_trial`), the trials best
        first (dicts), the chosen trial's id; `(None, None, None)` in a
        distributed-tuning worker.
    """
    import keras

    from mnist_vit.search import chosen_trial, default_values, make_tuner

    hypermodel = hypermodel_for(task, settings, splits, settings.seed)
    project = f"search_{settings.tuner}"
    folder = os.path.join(settings.out, project)
    remedy = f"delete {folder} to search again (or run with --start-over)"
    for path in search_files_read_back(folder):
        read_json(path, remedy)  # a damaged file of the search is named before KerasTuner reads it
    try:
        tuner = make_tuner(
            settings.tuner,
            hypermodel,
            task.monitor,
            task.mode,
            settings.trials,
            settings.search_epochs,
            directory=settings.out,
            project_name=project,
            seed=settings.seed,
        )
    except Exception as error:  # KerasTuner reloads the saved search here and raises many types
        if not os.path.isdir(folder):
            raise
        raise RunFolderError(f"the search in {folder} cannot be resumed ({error}); {remedy}") from None
    tuner.search_space_summary()
    tuner.search(
        epochs=settings.search_epochs,
        callbacks=[keras.callbacks.TensorBoard(os.path.join(settings.out, "logs", "search"))],
        verbose=2,
    )
    if is_worker():
        return None, None, None
    trials = tuner.oracle.get_best_trials(num_trials=settings.trials)
    scored = [trial for trial in trials if trial.score is not None]
    if not scored:
        raise UsageError(
            f"no trial has a {task.monitor} score (too few validation sequences to score? "
            f"--validation-sequences is {settings.validation_sequences})"
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
        settings.search_margin,
    )
    print(f"chosen: trial {chosen['trial_id']} (search margin {settings.search_margin})")
    chosen_hp = next(t.hyperparameters for t in trials if t.trial_id == chosen["trial_id"])
    return hypermodel.hyperparameters(chosen_hp), best_trials, chosen["trial_id"]


def train_final_model(task, model_name, hyperparameters, splits, settings, seed):
    """Trains (or resumes) one seed's final run; returns `(model, history)`.

    The run's folder is `final_run_dir(settings.out, model_name, seed)`.
    """
    from mnist_vit.training import final_run_dir, train_sequence_model

    stops = f", ending after {settings.patience} without a better {task.monitor}" if settings.patience else ""
    print(f"training {model_name}, seed {seed}, {settings.epochs} epochs{stops}", flush=True)
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
        pool=settings.train_pool,
        patience=settings.patience,
    )


def train_and_test(task, model_name, hyperparameters, splits, settings, seed):
    """Trains one final model (or reuses a finished run) and returns its test metrics."""
    from mnist_vit.training import final_run_dir, test_metrics

    run_dir = final_run_dir(settings.out, model_name, seed)
    done = os.path.join(run_dir, "test.json")
    if os.path.lexists(done):
        print(f"{model_name} seed {seed}: finished earlier, reusing {done}")
        remedy = f"delete {run_dir} to train and test this model again"
        metrics = read_json(done, remedy)
        if not isinstance(metrics.get(task.headline), (int, float)):
            raise RunFolderError(f"{done} is damaged (it has no {task.headline}); {remedy}")
        return metrics
    model, history = train_final_model(task, model_name, hyperparameters, splits, settings, seed)
    seconds = history["elapsed_seconds"][-1]  # every epoch's, over resumed processes too
    metrics = test_metrics(task, model_name, model, splits, settings.test_sequences)
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
    reference = read_json(reference_path, "restore it from git")
    lines = [
        f"compared with the reference {reference_path} ({reference['backend']}, "
        f"{reference['settings']['seeds']} seed(s)):"
    ]
    seeds = reference["settings"]["seeds"]
    for name, key, verdict in compare_to_reference(task, models, reference):
        mine, ref = models[name]["test"], reference["models"][name]["test"]
        lines.append(
            f"  {name} {key}: {with_std(mine, key)}, reference {with_std(ref, key, seeds=seeds)}: {verdict}"
        )
    return lines


def job_results(task, settings, clock, best_trials, chosen_id, models):
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
            "preset": settings.preset,
            "tuner": settings.tuner,
            "trials": settings.trials,
            "search_epochs": settings.search_epochs,
            "search_margin": settings.search_margin,
            "epochs": settings.epochs,
            "train_pool": settings.train_pool,
            "patience": settings.patience,
            "seed": settings.seed,
            "seeds": settings.seeds,
            "max_len": MAX_LEN,
            "validation_sequences": settings.validation_sequences,
            "test_sequences": settings.test_sequences,
        },
        "search": {"objective": task.monitor, "chosen_trial": chosen_id, "best_trials": best_trials},
        "models": models,
    }
