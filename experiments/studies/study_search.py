"""How well the `cpu` preset's short search predicts where a configuration ends: a study of its trials.

1. Runs the task's search as `run_tuner.py` does with the preset's settings,
   but with `--configs` trials (the first is the defaults, the rest are the
   random search's own, in the order `run_tuner.py` proposes them).
2. Scores the defaults' short trial again with `--noise-seeds` - 1 other
   seeds: the spread of a short trial's score for one configuration, which a
   trial must beat the defaults by before the search replaces them
   (`--search-margin` of `run_tuner.py`).
3. Trains every trial's configuration fully with the preset's final settings
   (the searched model, one seed) and tests it.

Reports the rank correlation (Spearman) between the short trials' scores and
the full runs' validation and test figures, the noise, and the margin it
suggests. The results file goes into the run folder (`--out`, default
`runs/study_<task>`); `--publish` writes
`experiments/results/search_study_<task>.json` instead. Running the same
command again resumes.

    python experiments/studies/study_search.py --task sum --data ../shared/data/mnist.npz
"""

import dataclasses
import json
import math
import os

import numpy as np
from harness import run_study, study_outputs, study_parser, study_settings

from mnist_vit.command_line import bounded_int, run_main
from mnist_vit.experiment import RESUME_HINT, hypermodel_for, search, train_and_test
from mnist_vit.metrics import rank_correlation
from mnist_vit.results import best_epoch_value, run_metadata
from mnist_vit.safe_files import atomic_write_json
from mnist_vit.settings import PUBLISHED_RESULTS

MARGIN_STEP = 0.005  # the suggested margin is rounded up to a multiple of this
# Options that shrink the study for tests; the preset's values otherwise.
BUDGET = ("epochs", "search_epochs", "train_sequences", "validation_sequences", "test_sequences")


def parse_args(argv=None):
    parser = study_parser(__doc__.splitlines()[0], BUDGET, "experiments/results/search_study_<task>.json")
    parser.add_argument("--configs", type=bounded_int(2, 100), default=6, help="configurations to study")
    parser.add_argument(
        "--noise-seeds", type=bounded_int(2, 100), default=5, help="seeds of the defaults' short trial"
    )
    args = parser.parse_args(argv)
    published = os.path.join(PUBLISHED_RESULTS, f"search_study_{args.task}.json")
    return study_outputs(args, f"study_{args.task}", published)


def noise_score(task, settings, splits, seed, folder):
    """The defaults' short-trial score with training seed `seed` (cached in `folder`)."""
    path = os.path.join(folder, f"defaults_seed_{seed}.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)["score"]
    import keras_tuner

    hypermodel = hypermodel_for(task, settings, splits, seed)
    print(f"defaults, short trial with seed {seed}", flush=True)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    history = hypermodel.fit(hp, model, epochs=settings.search_epochs, verbose=2).history
    score = best_epoch_value(history, task.monitor, task.mode)  # as KerasTuner scores a trial
    atomic_write_json(path, {"seed": seed, "score": score})
    return score


def suggested_margin(noise_std):
    """Twice the std of the difference of two independent short-trial scores, rounded up to MARGIN_STEP."""
    return math.ceil(2 * math.sqrt(2) * noise_std / MARGIN_STEP) * MARGIN_STEP


def made_by(task, args):
    """What decides the study's search and runs: the preset's budget and `--configs` trials (the noise
    seeds only add runs)."""
    return study_settings(args, task, BUDGET, trials=args.configs, seeds=1), {}


def study(task, args, splits):
    """Runs the study; returns the results dict."""
    from mnist_vit.search import chosen_trial, default_values, trial_hyperparameters

    settings = study_settings(args, task, BUDGET, trials=args.configs, seeds=1)
    _, trials, _ = search(task, settings, splits)
    trials = sorted(trials, key=lambda trial: int(trial["trial_id"]))  # in the order proposed
    defaults = default_values(task)
    defaults_trial = next(trial for trial in trials if trial["hyperparameters"] == defaults)
    noise = [defaults_trial["score"]] + [
        noise_score(task, settings, splits, seed, args.out)
        for seed in range(settings.seed + 1, settings.seed + args.noise_seeds)
    ]
    rows = []
    for trial in trials:
        config = dataclasses.replace(settings, out=os.path.join(args.out, f"config_{trial['trial_id']}"))
        hyperparameters = trial_hyperparameters(task, trial["hyperparameters"], settings.batch_size)
        metrics = train_and_test(task, task.searched_model, hyperparameters, splits, config, settings.seed)
        rows.append(
            {
                "trial_id": trial["trial_id"],
                "hyperparameters": trial["hyperparameters"],
                "search_score": trial["score"],
                "full_validation": metrics[f"best_{task.monitor}"],
                "full_test": metrics[task.headline],
                "train_seconds": metrics["train_seconds"],
            }
        )
        print(
            f"config {trial['trial_id']}: short trial {trial['score']:.4f}, full validation "
            f"{rows[-1]['full_validation']:.4f}, test {task.headline} {rows[-1]['full_test']:.4f}",
            flush=True,
        )
    noise_std = float(np.std(noise, ddof=1))
    margin = suggested_margin(noise_std)
    preset_trials = rows[: task.presets["cpu"]["trials"]]
    by_score = sorted(preset_trials, key=lambda row: row["search_score"], reverse=task.mode == "max")
    as_trials = [{"score": row["search_score"], **row} for row in by_score]

    def choice(margin):
        picked = chosen_trial(as_trials, defaults, task.mode, margin)
        return {"trial_id": picked["trial_id"], "full_test": picked["full_test"]}

    scores = [row["search_score"] for row in rows]
    return {
        "task": task.name,
        **run_metadata(),
        "settings": {
            "preset": settings.preset,
            "tuner": settings.tuner,
            "configs": args.configs,
            "search_epochs": settings.search_epochs,
            "epochs": settings.epochs,
            "train_sequences": settings.train_sequences,
            "validation_sequences": settings.validation_sequences,
            "test_sequences": settings.test_sequences,
            "seed": settings.seed,
        },
        "objective": task.monitor,
        "headline": task.headline,
        "configs": rows,
        "rank_correlation": {
            "search_vs_full_validation": rank_correlation(scores, [row["full_validation"] for row in rows]),
            "search_vs_full_test": rank_correlation(scores, [row["full_test"] for row in rows]),
        },
        "defaults_search_scores": noise,
        "defaults_search_score_std": noise_std,
        "suggested_margin": margin,
        "preset_search": {
            "trials": len(preset_trials),
            "defaults_full_test": next(row for row in rows if row["hyperparameters"] == defaults)[
                "full_test"
            ],
            "best_trial": choice(0.0),
            "with_margin": choice(margin),
        },
    }


def main(argv=None):
    args = parse_args(argv)
    results = run_study(args, study, made_by)
    correlation = results["rank_correlation"]
    print(
        f"rank correlation of short-trial scores with full validation "
        f"{correlation['search_vs_full_validation']}, with full test {correlation['search_vs_full_test']}"
    )
    print(
        f"defaults' short-trial score over {args.noise_seeds} seeds: "
        f"std {results['defaults_search_score_std']:.4f}; "
        f"suggested search margin {results['suggested_margin']:.3f}"
    )
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    run_main(main, interrupted=RESUME_HINT)
