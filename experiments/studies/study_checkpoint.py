"""Which model to test: the best validation epoch or the end of the schedule? A study over seeds.

Trains one of the task's models (`--model`, default the searched one) with
the default hyperparameters and the `cpu` preset's final settings
(`--epochs` and the sequence counts override them), once per seed
(`--seeds`, from `--seed`), as `run_tuner.py` trains its final models. Each
run keeps two models: the one at the end of the learning-rate schedule
(`final.keras`) and the epoch with the best validation score (`best.keras`).
This script tests both on the same test sequences (`run_tuner.py` tests the
end of the schedule). Reports, per seed and as mean ± std, the epoch chosen
by validation, its validation score beside the last epoch's, and the test
figures of both models; per seed also the training time.

The results file goes into the study's folder (`--out`, default
`runs/<study>`); `--publish` writes `experiments/results/findings/<study>.json`
instead, where `<study>` is `checkpoint_<task>` for the searched model and
`checkpoint_<task>_<model>` for another. Running the same command again
resumes.

    python experiments/studies/study_checkpoint.py --task sum --data ../shared/data/mnist.npz
"""

import os

from harness import run_study, study_outputs, study_parser, study_settings, tested_once

from mnist_vit.backends import import_keras
from mnist_vit.command_line import bounded_int, run_main
from mnist_vit.experiment import RESUME_HINT, train_final_model
from mnist_vit.results import best_epoch_value, run_metadata, summarize
from mnist_vit.settings import PUBLISHED_RESULTS
from mnist_vit.tasks import get_task

# Options that shrink the study for tests; the preset's values otherwise.
BUDGET = ("epochs", "train_sequences", "validation_sequences", "test_sequences")


def parse_args(argv=None):
    parser = study_parser(__doc__.splitlines()[0], BUDGET, "experiments/results/findings/<study>.json")
    parser.add_argument("--model", help="the model to train (default: the one the search tunes)")
    parser.add_argument("--seeds", type=bounded_int(1, 100), default=3, help="training seeds")
    parser.add_argument("--seed", type=bounded_int(0, 2**31 - 1), default=0, help="the first seed")
    args = parser.parse_args(argv)
    import_keras()
    task = get_task(args.task)
    args.model = task.check_model(args.model) if args.model else task.searched_model
    name = f"checkpoint_{args.task}" + ("" if args.model == task.searched_model else f"_{args.model}")
    return study_outputs(args, name, os.path.join(PUBLISHED_RESULTS, "findings", f"{name}.json"))


def tested(task, model_name, splits, settings, run_dir, model_file, cache):
    """Test metrics of the saved model `run_dir/train/model_file`, cached in `run_dir/cache`."""
    from mnist_vit.training import test_metrics

    return tested_once(
        run_dir,
        model_file,
        cache,
        lambda model: test_metrics(task, model_name, model, splits, settings.test_sequences),
    )


def trained_run(task, model_name, hyperparameters, splits, settings, seed):
    """Trains one seed's run, unless it finished earlier (its final model exists); returns its folder."""
    from mnist_vit.training import FINAL_MODEL, final_run_dir

    run_dir = final_run_dir(settings.out, model_name, seed)
    if not os.path.exists(os.path.join(run_dir, "train", FINAL_MODEL)):
        train_final_model(task, model_name, hyperparameters, splits, settings, seed)
    return run_dir


def made_by(task, args):
    """What decides every seed's run: the preset's budget and the default hyperparameters (the model and
    the seeds only choose which runs a command trains)."""
    from mnist_vit.search import default_values

    return study_settings(args, task, BUDGET), {"defaults": default_values(task)}


def study(task, args, splits):
    """Trains every seed and tests both of its models; returns the results dict."""
    from mnist_vit.callbacks import read_history
    from mnist_vit.run_folder import damaged, read_json
    from mnist_vit.search import default_values, trial_hyperparameters
    from mnist_vit.training import FINAL_MODEL

    settings = study_settings(args, task, BUDGET, seed=args.seed)
    model_name = args.model
    hyperparameters = trial_hyperparameters(task, default_values(task), settings.batch_size)
    best, final, rows = [], [], []
    for seed in range(args.seed, args.seed + args.seeds):
        run_dir = trained_run(task, model_name, hyperparameters, splits, settings, seed)
        best.append(tested(task, model_name, splits, settings, run_dir, "best.keras", "best_test.json"))
        final.append(tested(task, model_name, splits, settings, run_dir, FINAL_MODEL, "final_test.json"))
        best_json = os.path.join(run_dir, "train", "best.keras.best.json")
        remedy = f"delete {run_dir} to train again"
        epoch = read_json(best_json, remedy).get("epoch")
        if not isinstance(epoch, int):
            raise damaged(best_json, remedy)
        history = read_history(os.path.join(run_dir, "train"))
        validation = history[task.monitor]
        row = {
            "seed": seed,
            "best_epoch": epoch,
            "best_validation": best_epoch_value({task.monitor: validation}, task.monitor, task.mode),
            "last_validation": validation[-1],
            "test_best_epoch": best[-1][task.headline],
            "test_end_of_schedule": final[-1][task.headline],
            "train_seconds": history["elapsed_seconds"][-1],  # every epoch's, over resumed processes too
        }
        rows.append(row)
        print(
            f"seed {seed}: best validation epoch {epoch} of {settings.epochs} "
            f"({row['best_validation']:.4f}, last {row['last_validation']:.4f}); test {task.headline}: "
            f"best epoch {row['test_best_epoch']:.4f}, end of schedule {row['test_end_of_schedule']:.4f}",
            flush=True,
        )
    return {
        "task": task.name,
        **run_metadata(),
        "settings": {
            "model": model_name,
            "hyperparameters": "defaults",
            "epochs": settings.epochs,
            "train_sequences": settings.train_sequences,
            "validation_sequences": settings.validation_sequences,
            "test_sequences": settings.test_sequences,
            "seeds": list(range(args.seed, args.seed + args.seeds)),
        },
        "objective": task.monitor,
        "headline": task.headline,
        "per_seed": rows,
        "best_epoch": summarize(best),
        "end_of_schedule": summarize(final),
    }


def main(argv=None):
    args = parse_args(argv)
    results = run_study(args, study, made_by)
    headline = results["headline"]
    for name in ("best_epoch", "end_of_schedule"):
        test = results[name]
        print(f"{name}: test {headline} {test[headline]:.4f} ± {test[headline + '_std']:.4f}")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    run_main(main, interrupted=RESUME_HINT)
