"""The README's tables of the main job's committed default runs: the answer, and every result.

Rendered with `mnist_vit.report` from the results files that
`mnist_vit.experiment.run_experiment` writes (`experiments/results/<task>.json`
for the reference backend, `experiments/results/<backend>/<task>.json` for the
others); each task's wording comes from its `Presentation`. The answer table
(`render_answer`) has a row per task: the attention model, the pooling and the
fully-connected baselines, and what attention gains over pooling, seed by seed.
"""

import json
import os

import numpy as np

from mnist_vit.backends import BACKENDS
from mnist_vit.presentation import presentation_of
from mnist_vit.report import Table, markdown
from mnist_vit.results import DIFFERS, REFERENCE_BACKEND, backend_folder, compare_to_reference, with_std
from mnist_vit.settings import PUBLISHED_RESULTS
from mnist_vit.tasks import ATTENTION, FULLY_CONNECTED, POOLING, get_task, task_names

RESULTS = Table(
    columns=(
        ("task", "{task}"), ("model", "{label}"), ("backend", "{backend}"), ("our test result", "{ours}"),
        ("original project", "{original}"), ("command", "`{command}`"),
    ),
    caption="Written by `python experiments/update_readme.py` from `experiments/results/*.json` (the "
    f"{REFERENCE_BACKEND} reference) and `experiments/results/<backend>/*.json`; mean ± sample std over the "
    "training seeds where there are several. Test sets: MNIST's test split, never used for tuning or model "
    "selection; sequences of lengths 1..10 with a fixed seed. Each run's command, on {machine}:\n\n{runs}",
)  # fmt: skip


ANSWER = Table(
    columns=(
        ("task", "{task}"), ("test headline", "{headline}"), ("attention", "{attention}"),
        ("pooling (Deep Sets)", "{pooling}"), ("fully connected", "{fully_connected}"),
        ("attention - pooling, per seed", "{difference}"), ("beyond twice its spread?", "{verdict}"),
        ("learned positions in", "{positions}"),
    ),
    caption=f"Written by `python experiments/update_readme.py` from `experiments/results/<task>.json` (the "
    f"{REFERENCE_BACKEND} runs of `python experiments/run_tuner.py --task <task> --publish`); mean ± sample "
    "std over the training seeds. The difference pairs the attention and pooling models trained with the "
    "same seed; its spread is the std of those differences. Every model of a task trains with the "
    "hyperparameters the search found for the attention model.",
)  # fmt: skip


def read_results(path):
    """The results file at `path` (a JSON object)."""
    with open(path) as f:
        return json.load(f)


def committed_runs(folder=PUBLISHED_RESULTS):
    """`[(task name, results file)]`: each task's default runs in `folder`, the reference backend's first."""
    runs = []
    for name in task_names():
        for backend in BACKENDS:
            path = os.path.join(backend_folder(folder, backend), f"{name}.json")
            if os.path.exists(path):
                runs.append((name, read_results(path)))
    return runs


def wall_time(run):
    """A run's wall time in minutes, saying so when it was stopped and resumed (`processes` > 1)."""
    processes = run.get("processes", 1)
    resumed = f" over {processes} processes (stopped and resumed)" if processes > 1 else ""
    return f"{run['wall_seconds'] / 60:.0f} minutes{resumed}"


def model_rows(run, **extra):
    """A row per model of a main-job results file: its label, test summary and the original project's."""
    task = get_task(run["task"])
    shown = presentation_of(task.name)
    return [
        {
            "task": task.name, "label": shown.label(model), "backend": run["backend"],
            "ours": shown.results(task, entry["test"]), "original": shown.original.get(model, "n/a"),
            "command": run["command"], "test": entry["test"], "wall_time": wall_time(run), **extra,
        }
        for model, entry in run["models"].items()
    ]  # fmt: skip


def render_results(classification, runs):
    """The README's results table: classification, then each task's models on each backend.

    Args:
        classification: the classification results file, or None.
        runs: `[(task name, results file)]`, a task's reference run (the
            reference backend's) before its runs on the other backends.
    """
    rows = []
    if classification:
        test = classification["models"]["cnn"]["test"]
        rows.append(
            {"task": "classification", "label": "CNN", "backend": classification["backend"],
             "ours": f"accuracy {test['accuracy']:.4f}", "original": "n/a",
             "command": classification["command"]}
        )  # fmt: skip
    for _, run in runs:
        rows += model_rows(run)
    references = {name: run for name, run in runs if run["backend"] == REFERENCE_BACKEND}
    lines = []
    for name, run in runs:
        settings = run["settings"]
        seeds = settings["seeds"]
        patience = settings.get("patience")
        stopping = f" (ending after {patience} without a better validation score)" if patience else ""
        lines.append(
            f"- {name} on {run['backend']}: {seeds} seed{'s' if seeds > 1 else ''}, {settings['trials']} "
            f"trials of {settings['search_epochs']} epochs then {settings['epochs']} epochs per model"
            f"{stopping}, {wall_time(run)} in all; {agreement(name, run, references.get(name))}."
        )
    machine = runs[0][1]["machine"] if runs else "its machine"
    return markdown(RESULTS, {"machine": machine, "runs": "\n".join(lines)}, rows)


def relative_speed(run, reference):
    """How long `run` took beside the reference run: their wall times when both trained the same number of
    seeds, else the training time of one seed of the models both trained (the search's trials are the same,
    the seeds are not)."""
    if run["settings"]["seeds"] == reference["settings"]["seeds"]:
        return (
            f"{run['wall_seconds'] / reference['wall_seconds']:.1f}x the {REFERENCE_BACKEND} run's wall time"
        )
    both = [name for name in run["models"] if name in reference["models"]]
    mine, theirs = (
        sum(r["models"][name]["test"]["train_seconds"] for name in both) for r in (run, reference)
    )
    return f"{mine / theirs:.1f}x the {REFERENCE_BACKEND} run's training time per seed"


def agreement(name, run, reference):
    """What a run of the task `name` should be compared with, or how it compares with the reference run."""
    if run["backend"] == REFERENCE_BACKEND:
        if run["settings"]["seeds"] == 1:
            return "one seed, so no spread is given"
        return "a run of the same command should give each mean within about two of its stds"
    if reference is None:
        return f"there is no {REFERENCE_BACKEND} reference to compare with"
    speed = relative_speed(run, reference)
    seeds = reference["settings"]["seeds"]
    if seeds == 1:
        return f"{speed}; the {REFERENCE_BACKEND} reference has one seed, so no spread to compare with"
    task = get_task(name)
    shown = presentation_of(name)
    verdicts = compare_to_reference(task, run["models"], reference)
    own_seeds = run["settings"]["seeds"]
    differing = [
        f"{shown.label(model)} {key} {with_std(run['models'][model]['test'], key, seeds=own_seeds)} against "
        f"{with_std(reference['models'][model]['test'], key, seeds=seeds)}"
        for model, key, verdict in verdicts
        if verdict == DIFFERS
    ]
    verdict = f"{speed}; every key figure within two stds of the {REFERENCE_BACKEND} reference's mean"
    if differing:
        verdict += f" but {'; '.join(differing)}"
    return verdict


def answer_row(task, run):
    """The answer table's row of `task`: its models by kind, and attention minus pooling seed by seed.

    `run` is the task's reference results file, or None when it has none
    (the row then says how to make it).
    """
    headline = task.headline
    if run is None:
        missing = f"no results file yet: `python experiments/run_tuner.py --task {task.name} --publish`"
        return {
            "task": task.name, "headline": headline.replace("_", " "), "attention": missing, "pooling": "",
            "fully_connected": "", "difference": "", "verdict": "", "positions": "",
        }  # fmt: skip
    by_kind = {spec.kind: name for name, spec in task.models.items() if name in run["models"]}

    def figure(kind):
        name = by_kind.get(kind)
        if name is None:
            return "not trained"
        return with_std(run["models"][name]["test"], headline, seeds=run["settings"]["seeds"])

    row = {
        "task": task.name, "headline": headline.replace("_", " "), "attention": figure(ATTENTION),
        "pooling": figure(POOLING), "fully_connected": figure(FULLY_CONNECTED), "difference": "n/a",
        "verdict": "n/a",
    }  # fmt: skip
    row["positions"] = ", ".join(name for name, spec in task.models.items() if spec.positions) or "none"
    if ATTENTION in by_kind and POOLING in by_kind:
        attention, pooling = (run["models"][by_kind[kind]]["per_seed"] for kind in (ATTENTION, POOLING))
        pairs = zip(attention, pooling, strict=True)
        differences = np.array([a[headline] - p[headline] for a, p in pairs])
        if len(differences) > 1:
            mean, spread = float(differences.mean()), float(differences.std(ddof=1))
            row["difference"] = f"{mean:+.4f} ± {spread:.4f}"
            if abs(mean) <= 2 * spread:
                row["verdict"] = "no: a tie"
            else:
                row["verdict"] = "yes: attention ahead" if mean > 0 else "yes: pooling ahead"
    return row


def render_answer(runs):
    """The answer table: a row per registered task, from its reference run in `runs` (`committed_runs`)."""
    references = {name: run for name, run in runs if run["backend"] == REFERENCE_BACKEND}
    rows = [answer_row(get_task(name), references.get(name)) for name in task_names()]
    return markdown(ANSWER, {}, rows)


def readme_blocks(folder=PUBLISHED_RESULTS):
    """`{block name: text}` of README.md: the answer and results tables from the results files in `folder`."""
    classification_path = os.path.join(folder, "classification.json")
    classification = read_results(classification_path) if os.path.exists(classification_path) else None
    runs = committed_runs(folder)
    return {"answer": render_answer(runs), "results": render_results(classification, runs)}
