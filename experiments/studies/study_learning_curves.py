"""How much data does each model need? Test headline against the number of distinct training sequences.

For each size in `--sizes` and each of the task's models (`--models`), trains
`--seeds` models as the main job trains its final models (the task's `cpu`
preset: epochs of `train_sequences` sequences each, the same learning-rate
schedule, the same validation and test sequences), with the hyperparameters
that the committed main job's search chose (`experiments/results/<task>.json`),
except that every epoch draws its sequences from one fixed pool of `size`
sequences per seed (`Settings.train_pool`), and that training stops early
(`Settings.patience`): once the validation score has not improved for
`--patience` epochs, the run ends and its best epoch is tested. A small pool
is seen many times over in one epoch and overfits within a few, so each point
is a model trained until validation stops improving, and the small sizes cost
a few epochs instead of the whole schedule. The validation sequences (2,000
by default, more than the smallest pools) only choose the epoch.

The curve's last point is the main job itself, whose epochs draw new
sequences (`epochs x train_sequences` of them, nothing to overfit, so it
trains every epoch), read from the committed results file when its settings
match (same epochs, sequences per epoch and seeds); the study never retrains
it. The default sizes, 50 to 16,000, include the 50-500 bags of Ilse, Tomczak
and Welling (2018).

A run costs at most what one final model of the main job costs (minutes on 2
CPU cores), so the whole grid takes hours: `--sizes` and `--models` run it in
pieces, and any command resumes where it stopped. The study's folder records
what decides every point (the budget, the patience, the searched
hyperparameters, the backend and the data, in `run.json`), so a command with
any of them changed is refused by name rather than mixing points made two ways.

The results file is the study's record, rewritten after every finished run:
every run's test figures and epochs trained (`runs`, kept across pieces), the points of the
command's grid that are complete (`curves`), those still to train
(`missing`, empty once the command ends), the study's wall time over all
its processes, and what always giving the test sequences' most frequent
answer scores (the level of a model that learned nothing). A command reuses
the runs of the results file it writes when that file was made with the same
settings, so the study resumes on another machine from its committed
results file alone, e.g. in a fresh clone with `--publish`, which writes
`experiments/results/findings/learning_curves_<task>.json` and, when the
grid is complete, `figures/<task>_learning_curve.png`.

    python experiments/studies/study_learning_curves.py --task anchor --data ../shared/data/mnist.npz
"""

import os

from harness import (
    answers_without_images,
    committed_hyperparameters,
    run_study,
    study_outputs,
    study_parser,
    study_results,
    study_settings,
)

from mnist_vit.backends import import_keras
from mnist_vit.command_line import bounded_int, check_output_folder, run_main
from mnist_vit.errors import UsageError
from mnist_vit.experiment import CLOCK_FILE, RESUME_HINT, train_and_test
from mnist_vit.results import backend_folder, summarize
from mnist_vit.run_clock import RunClock
from mnist_vit.run_folder import SETTINGS_FILE, read_json, settings_differences
from mnist_vit.safe_files import atomic_write_json
from mnist_vit.settings import MAX_SEQUENCES, PUBLISHED_FIGURES, PUBLISHED_RESULTS, published_results
from mnist_vit.tasks import get_task

# Options that shrink the study for tests; the preset's values otherwise.
BUDGET = ("epochs", "train_sequences", "validation_sequences", "test_sequences")
SIZES = (50, 100, 200, 500, 2000, 16000)
PATIENCE = 5  # epochs without a better validation score that end a run


def parse_args(argv=None):
    parser = study_parser(
        __doc__.splitlines()[0], BUDGET, "experiments/results/findings/learning_curves_<task>.json"
    )
    parser.set_defaults(task="anchor")
    parser.add_argument(
        "--sizes", type=bounded_int(1, MAX_SEQUENCES), nargs="+", default=SIZES, help="training pools"
    )
    parser.add_argument("--models", nargs="+", help="the models to train (default: every model of the task)")
    parser.add_argument("--seeds", type=bounded_int(1, 100), default=3, help="training seeds 0, 1, ...")
    parser.add_argument(
        "--patience",
        type=bounded_int(1, 1000),
        default=PATIENCE,
        help="end a run once validation has not improved for this many epochs",
    )
    parser.add_argument("--figures", help="folder for the figure (default <out>/figures)")
    args = parser.parse_args(argv)
    keras = import_keras()
    task = get_task(args.task)
    args.models = [task.check_model(name) for name in args.models] if args.models else list(task.models)
    args.sizes = sorted(set(args.sizes))
    name = f"learning_curves_{args.task}"
    study_outputs(args, name, os.path.join(PUBLISHED_RESULTS, "findings", f"{name}.json"))
    if not args.figures:
        published = backend_folder(PUBLISHED_FIGURES, keras.backend.backend())
        args.figures = published if args.publish else os.path.join(args.out, "figures")
    figure = f"{args.task}_learning_curve.png"
    check_output_folder(args.figures, "figures folder", [figure], file_what="figure")
    return args


def fresh_point(task, model_name, settings, seeds):
    """The main job's committed runs of `model_name` on this backend as the curve's last point, or None
    where none match."""
    import keras

    from mnist_vit.results_table import read_results

    path = published_results(task.name, keras.backend.backend())
    if not os.path.exists(path):
        return None
    run = read_results(path)
    entry = run["models"].get(model_name)
    matches = (
        entry is not None
        and run["settings"]["epochs"] == settings.epochs
        and entry["hyperparameters"]["train_sequences_per_epoch"] == settings.train_sequences
        and run["settings"].get("train_pool") is None
        and run["settings"].get("patience") is None
        and run["settings"]["test_sequences"] == settings.test_sequences
        and len(entry["per_seed"]) >= len(seeds)
        and run["settings"]["seed"] == 0
    )
    if not matches:
        return None
    per_seed = [{**row, "epochs_trained": settings.epochs} for row in entry["per_seed"][: len(seeds)]]
    return point(task, settings.epochs * settings.train_sequences, True, per_seed)


def point(task, sequences, fresh, per_seed):
    """One point of a curve: its distinct training sequences, the headline and the epochs trained per
    seed, and the summary (mean and std) of the headline and the task's key metrics (e.g. the anchor's
    AUC)."""
    figures = (task.headline, *task.key_metrics)
    return {
        "train_sequences": sequences,
        "fresh": fresh,
        "per_seed": [row[task.headline] for row in per_seed],
        "epochs_trained": [row["epochs_trained"] for row in per_seed],
        "test": summarize([{name: row[name] for name in figures} for row in per_seed]),
    }


def made_by(task, args):
    """What decides every point's runs: the preset's budget, the patience and the committed searched
    hyperparameters.

    The sizes, models and seeds only choose which points a command trains.
    """
    settings = study_settings(args, task, BUDGET, patience=args.patience)
    return settings, {"hyperparameters": committed_hyperparameters(task).to_dict()}


def constant_answer(task, split, num_sequences):
    """What always giving one answer scores (`harness.answers_without_images`), in the task's headline and
    key metrics: the level below which a model has learned nothing; for an anchor, accuracy = the share of
    the commoner answer, AUC = 0.5."""
    constant = answers_without_images(task, split, num_sequences)
    figures = (task.headline, *task.key_metrics)
    return {"answer": constant["answer"], "test": {name: constant["test"][name] for name in figures}}


def epochs_trained(settings, model_name, seed):
    """The epochs that one run of the grid trained (fewer than `settings.epochs` where it stopped early)."""
    from mnist_vit.callbacks import read_history
    from mnist_vit.training import final_run_dir

    history = read_history(os.path.join(final_run_dir(settings.out, model_name, seed), "train"))
    return len(history.get("elapsed_seconds", []))


def run_key(row):
    """A run's place in the grid: `(training sequences, model, seed)`."""
    return row["train_sequences"], row["model"], row["seed"]


def earlier_study(path, task, made_by):
    """The results file at `path` where it was made by `made_by` (the settings of the study's run folder),
    its runs checked; None where there is no file yet. So a study resumes from its results file on a
    machine without its run folder.

    Raises:
        UsageError: the file was made with other settings, or does not hold a study's runs.
    """
    if not os.path.lexists(path):
        return None
    remedy = "use another --results, or delete it to start the study again"
    earlier = read_json(path, remedy)
    recorded = (
        isinstance(earlier.get("made_by"), dict)
        and isinstance(earlier.get("runs"), list)
        and isinstance(earlier.get("wall_seconds"), (int, float))
        and isinstance(earlier.get("processes"), int)
    )
    if not recorded:
        raise UsageError(f"results file {path} holds no record of a learning-curve study's runs; {remedy}")
    differs = settings_differences(earlier["made_by"], made_by)
    if differs:
        raise UsageError(f"results file {path} was made with other settings ({differs}); {remedy}")
    figures = ("train_sequences", "seed", task.headline, *task.key_metrics)
    for row in earlier["runs"]:
        numbers = isinstance(row, dict) and all(isinstance(row.get(name), (int, float)) for name in figures)
        if not (numbers and isinstance(row.get("model"), str)):
            raise UsageError(f"results file {path} holds a damaged run ({row!r}); {remedy}")
    return earlier


def study(task, args, splits):
    """Trains (or carries over) every run of the grid, rewriting the results file after each; returns the
    results dict of the whole grid."""
    seeds = list(range(args.seeds))
    hyperparameters = committed_hyperparameters(task)
    settings = study_settings(args, task, BUDGET)
    made_by = read_json(os.path.join(args.out, SETTINGS_FILE), "delete it to start the study again")
    earlier = earlier_study(args.results, task, made_by["settings"])
    runs = {run_key(row): row for row in earlier["runs"]} if earlier else {}
    clock_file = os.path.join(args.out, CLOCK_FILE)
    if earlier and not os.path.lexists(clock_file):  # the run folder is new: go on from the file's clock
        atomic_write_json(clock_file, {"seconds": earlier["wall_seconds"], "processes": earlier["processes"]})
    described = {
        "sizes": args.sizes,
        "models": args.models,
        "seeds": seeds,
        "hyperparameters": f"the searched ones of experiments/results/{task.name}.json",
    }
    constant = constant_answer(task, splits["test"], settings.test_sequences)
    grid = [(size, name) for size in args.sizes for name in args.models]
    curves = {name: [] for name in args.models}
    with RunClock(clock_file) as clock:

        def results(missing):
            return study_results(
                task, clock.seconds(), settings, described, processes=clock.processes,
                made_by=made_by["settings"], missing=[{"train_sequences": size, "model": name}
                for size, name in missing], curves=curves, constant_answer=constant,
                runs=[runs[key] for key in sorted(runs)],
            )  # fmt: skip

        for done, (size, name) in enumerate(grid):
            pooled = study_settings(
                args,
                task,
                BUDGET,
                out=os.path.join(args.out, f"pool_{size}"),
                train_pool=size,
                patience=args.patience,
            )
            for seed in seeds:
                if (size, name, seed) in runs:
                    print(f"{name}, {size} training sequences, seed {seed}: carried over from {args.results}")
                    continue
                tested = train_and_test(task, name, hyperparameters, splits, pooled, seed)
                figures = {figure: tested[figure] for figure in (task.headline, *task.key_metrics)}
                runs[(size, name, seed)] = {
                    "train_sequences": size, "model": name, "seed": seed, **figures,
                    "epochs_trained": epochs_trained(pooled, name, seed),
                }  # fmt: skip
                atomic_write_json(args.results, results(grid[done:]))
            curves[name].append(point(task, size, False, [runs[(size, name, seed)] for seed in seeds]))
            atomic_write_json(args.results, results(grid[done + 1 :]))  # the point done, if stopped next
            test = curves[name][-1]["test"]
            print(
                f"{name}, {size} training sequences: test {task.headline} {test[task.headline]:.4f} "
                f"± {test[task.headline + '_std']:.4f}",
                flush=True,
            )
        for name in args.models:
            last = fresh_point(task, name, settings, seeds)
            if last is not None:
                curves[name].append(last)
        return results([])


def main(argv=None):
    args = parse_args(argv)  # imports Keras quietly, before the modules that need it
    from mnist_vit.figures import plot_learning_curves
    from mnist_vit.presentation import presentation_of

    results = run_study(args, study, made_by)
    labels = {name: presentation_of(args.task).label(name) for name in results["curves"]}
    figure = plot_learning_curves(results, labels, args.figures, f"{args.task}_learning_curve.png")
    print(f"wrote {args.results} and {figure} ({results['wall_seconds'] / 60:.0f} minutes in all)")
    return 0


if __name__ == "__main__":
    run_main(main, interrupted=RESUME_HINT)
