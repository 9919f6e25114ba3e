"""Regenerates the tables of README.md and docs/findings.md from the committed results files.

Rewrites the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`:

- README `results`: `experiments/results/classification.json`,
  `experiments/results/<task>.json` of every registered task (the
  reference, TensorFlow's) and `experiments/results/<backend>/<task>.json`
  where another backend's default run is committed, beside the original
  project's numbers;
- README `performance`: `experiments/results/throughput.json`;
- README `gpu-performance`: `experiments/results/gpu/throughput.json` (the
  same benchmark on a GPU machine, `experiments/results/gpu/device.txt`);
- README `convolution`: `experiments/results/convolution.json`;
- README `augmentation`: `experiments/results/augmentation.json`;
- README `search-study`: `experiments/results/search_study_<task>.json`
  (`experiments/studies/study_search.py`);
- findings.md, one block per finding (`FINDINGS`): the results files that
  the finding compares; `encoder-layout`: `ENCODER_LAYOUT`
  (`experiments/studies/benchmark_encoder_layout.py`); `encoder-precision`:
  `ENCODER_PRECISION` (`experiments/studies/benchmark_encoder_precision.py`);
  `anchor-precision`: the anchor's runs in `ANCHOR_PRECISION`;
  `checkpoint`: `CHECKPOINT` (`experiments/studies/study_checkpoint.py`);
  `backend-drift`: `BACKEND_DRIFT` (`experiments/studies/study_backend_drift.py`);
  `STUDIES_BESIDE_RUNS`: `study_checkpoint.py` runs beside the committed
  default runs.

    python experiments/update_readme.py
"""

import json
import os
import sys

from mnist_vit.backends import BACKENDS, import_keras
from mnist_vit.results import (
    DIFFERS,
    REFERENCE_BACKEND,
    backend_folder,
    compare_to_reference,
    summarize,
    with_std,
)
from mnist_vit.tasks import get_task, task_names

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORIGINAL_THROUGHPUT = 673  # training sequences/s of the original project, same kind of machine

# Each finding compares results files of one task (paths relative to experiments/), a row per file and model.
FINDINGS = {
    "sum-loss": [
        ("Huber loss on the expected sum; prediction = expected sum; no augmentation",
         "results/findings/sum_expected_sum_loss_only.json"),
        ("Huber + likelihood of the sum; prediction = most likely sum; augmentation",
         "results/findings/sum_likelihood_loss.json"),
    ],
    "anchor-head": [
        ("one free Dense unit on match scores and attention output; augmentation",
         "results/findings/anchor_free_head.json"),
        ("non-negative match weights starting at 1 / heads; augmentation",
         "results/findings/anchor_nonnegative_head_augmented.json"),
        ("non-negative match weights; no augmentation", "results/findings/anchor_nonnegative_head.json"),
    ],
}  # fmt: skip
ENCODER_LAYOUT = "results/findings/encoder_layout.json"  # by experiments/studies/benchmark_encoder_layout.py
# by experiments/studies/benchmark_encoder_precision.py
ENCODER_PRECISION = "results/findings/encoder_precision.json"
# The anchor's runs with each encoder dtype policy (the float32 one is an earlier reference run's file).
ANCHOR_PRECISION = [
    ("float32 encoder", "results/findings/anchor_float32_encoder.json"),
    ("bfloat16 encoder (the default)", "results/anchor.json"),
]
CHECKPOINT = "results/findings/checkpoint_sum.json"  # by experiments/studies/study_checkpoint.py
BACKEND_DRIFT = "results/findings/backend_drift.json"  # by experiments/studies/study_backend_drift.py
# study_checkpoint.py runs of a model's defaults, a table of them per block, compared with the committed
# default runs: on a backend without one, or over more seeds.
STUDIES_BESIDE_RUNS = {
    "backend-sum-transformer": ["results/findings/checkpoint_sum_jax.json"],
    "anchor-transformer-seeds": ["results/findings/checkpoint_anchor_tensorflow.json"],
    "sum-fc-seeds": [
        "results/findings/checkpoint_sum_fc.json",
        "results/findings/checkpoint_sum_fc_torch.json",
    ],
}
THROUGHPUT_FINDING = {
    "throughput-autotuning": [
        ("one worker thread (tf.data autotuning on)", "results/findings/throughput_tfdata_autotuning.json"),
        ("two worker threads (autotuning off)", "results/findings/throughput_two_worker_threads.json"),
    ]
}


def read(path):
    with open(os.path.join(HERE, path)) as f:
        return json.load(f)


def wall_time(run):
    """A run's wall time in minutes, saying so when it was stopped and resumed (`processes` > 1)."""
    processes = run.get("processes", 1)
    resumed = f" over {processes} processes (stopped and resumed)" if processes > 1 else ""
    return f"{run['wall_seconds'] / 60:.0f} minutes{resumed}"


def render_results(classification, runs):
    """The README's results table: classification, then each task's models on each backend.

    Args:
        classification: the classification results file, or None.
        runs: `[(task name, results file)]`, a task's reference run (the
            reference backend's) before its runs on the other backends.
    """
    lines = [
        "| task | model | backend | our test result | original project | command |",
        "|---|---|---|---|---|---|",
    ]
    if classification:
        test, backend = classification["models"]["cnn"]["test"], classification["backend"]
        command = classification["command"]
        lines.append(
            f"| classification | CNN | {backend} | accuracy {test['accuracy']:.4f} | n/a | `{command}` |"
        )
    for name, run in runs:
        task = get_task(name)
        for model, entry in run["models"].items():
            ours = task.describe_results(entry["test"])
            original = task.original.get(model, "n/a")
            label = task.models[model].label
            lines.append(
                f"| {name} | {label} | {run['backend']} | {ours} | {original} | `{run['command']}` |"
            )
    lines += [
        "",
        "Written by `python experiments/update_readme.py` from `experiments/results/*.json` (the "
        f"{REFERENCE_BACKEND} reference) and `experiments/results/<backend>/*.json`; mean ± sample std over "
        "the training seeds where there are several. Test sets: MNIST's test split, never used for tuning or "
        "model selection; sequences of lengths 1..10 with a fixed seed. Each run's command, on "
        f"{runs[0][1]['machine'] if runs else 'its machine'}:",
        "",
    ]
    references = {name: run for name, run in runs if run["backend"] == REFERENCE_BACKEND}
    for name, run in runs:
        settings = run["settings"]
        seeds = settings["seeds"]
        lines.append(
            f"- {name} on {run['backend']}: {seeds} seed{'s' if seeds > 1 else ''}, {settings['trials']} "
            f"trials of {settings['search_epochs']} epochs then {settings['epochs']} epochs per model, "
            f"{wall_time(run)} in all; {agreement(name, run, references.get(name))}."
        )
    return "\n".join(lines)


def agreement(name, run, reference):
    """What a run of the task `name` should be compared with, or how it compares with the reference run."""
    if run["backend"] == REFERENCE_BACKEND:
        if run["settings"]["seeds"] == 1:
            return "one seed, so no spread is given"
        return "a run of the same command should give each mean within about two of its stds"
    if reference is None:
        return f"there is no {REFERENCE_BACKEND} reference to compare with"
    task = get_task(name)
    verdicts = compare_to_reference(task, run["models"], reference["models"])
    differing = [
        f"{task.models[model].label} {key} {with_std(run['models'][model]['test'], key)} against "
        f"{with_std(reference['models'][model]['test'], key)}"
        for model, key, verdict in verdicts
        if verdict == DIFFERS
    ]
    speed = f"{run['wall_seconds'] / reference['wall_seconds']:.1f}x the {REFERENCE_BACKEND} run's wall time"
    verdict = f"{speed}; every key figure within two stds of the {REFERENCE_BACKEND} reference's mean"
    if differing:
        verdict += f" but {'; '.join(differing)}"
    return verdict


def render_search_study(study):
    """What the `cpu` search's short trials say about full training: one row per configuration."""
    lines = [
        f"| trial | differs from the defaults in | short trial {study['objective']} "
        f"| full training: best {study['objective']} | full training: test {study['headline']} |",
        "|---|---|---|---|---|",
    ]
    defaults = study["configs"][0]["hyperparameters"]
    for row in study["configs"]:
        changed = {k: v for k, v in row["hyperparameters"].items() if v != defaults[k]}
        differs = ", ".join(
            f"{k} {v:.2g}" if isinstance(v, float) else f"{k} {v}" for k, v in changed.items()
        )
        lines.append(
            f"| {row['trial_id']} | {differs or '(the defaults)'} | {row['search_score']:.4f} "
            f"| {row['full_validation']:.4f} | {row['full_test']:.4f} |"
        )
    correlation, settings, preset = study["rank_correlation"], study["settings"], study["preset_search"]

    def rounded(value):
        return "n/a" if value is None else f"{value:.2f}"

    scores = ", ".join(f"{score:.4f}" for score in study["defaults_search_scores"])
    lines += [
        "",
        f"Rank correlation (Spearman) of the short trials' scores with full training: "
        f"{rounded(correlation['search_vs_full_validation'])} (validation), "
        f"{rounded(correlation['search_vs_full_test'])} (test). The defaults' short trial with "
        f"{len(study['defaults_search_scores'])} training seeds scored {scores} (std "
        f"{study['defaults_search_score_std']:.4f}), so a margin of {study['suggested_margin']:.3f} "
        f"separates a real gain from noise. A search of the preset's {preset['trials']} trials chooses "
        f"trial {preset['best_trial']['trial_id']} by score alone (test "
        f"{preset['best_trial']['full_test']:.4f}) and "
        f"trial {preset['with_margin']['trial_id']} with the margin (test "
        f"{preset['with_margin']['full_test']:.4f}); the defaults reach {preset['defaults_full_test']:.4f}. "
        f"Short trials: {settings['search_epochs']} epochs; full training: {settings['epochs']} epochs of "
        f"{settings['train_sequences']:,} sequences, one seed. Written by "
        "`python experiments/update_readme.py` "
        f"from `experiments/results/search_study_{study['task']}.json`, made by `{study['command']}`.",
    ]
    return "\n".join(lines)


def render_performance(path, closing):
    """The throughput table of `benchmark_throughput.py`'s results file `path` (relative to experiments/).

    `closing` is a sentence added after the line that names the file and the command.
    """
    throughput = read(path)
    lines = [
        "| backend | model | training seq/s, length buckets | training seq/s, padded to 10 | ratio "
        "| predict seq/s (buckets / padded) | padding share of encoded slots (buckets / padded) "
        "| peak RSS MB | training step ms, sequences of 1 / 2 / 5 / 10 images |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in throughput["results"]:
        step_ms = " / ".join(f"{ms:.1f}" for ms in row["step_ms_by_slots"].values())
        lines.append(
            f"| {row['backend']} | {row['model']} (batch {row['batch_size']}) "
            f"| {row['sequences_per_second']:.0f} | {row['padded_sequences_per_second']:.0f} "
            f"| {row['ratio_vs_padded']:.2f} | {row['predict_sequences_per_second']:.0f} / "
            f"{row['padded_predict_sequences_per_second']:.0f} "
            f"| {row['padding_fraction']['bucketed']:.1%} / {row['padding_fraction']['padded']:.1%} "
            f"| {row['peak_rss_mb']:.0f} | {step_ms} |"
        )
    lines += [
        "",
        f"Written by `python experiments/update_readme.py` from `experiments/{path}`, "
        f"made by `{throughput['command']}` on {throughput['machine']}. {closing}",
    ]
    return "\n".join(lines)


def render_convolution(convolution):
    """The README's table of the encoder's convolution step: Keras beside the plain framework, per backend."""
    settings = convolution["settings"]
    kernel = f"{settings['kernel_size']}x{settings['kernel_size']}"
    lines = [
        "| backend | implementation | ms per step | vs the backend's fastest plain |",
        "|---|---|---|---|",
    ]
    for row in convolution["results"]:
        lines.append(
            f"| {row['backend']} | {row['implementation']} | {row['ms_per_step']:.1f} "
            f"| {row['vs_fastest_plain']:.2f}x |"
        )
    lines += [
        "",
        f"Conv({settings['filters'][0]}, {kernel}) - ReLU - pool - conv({settings['filters'][1]}) - ReLU - "
        f"pool on {settings['images']} images: forward, backward and update; median of "
        f"{settings['rounds']} rounds of {settings['steps']} steps. Written by "
        "`python experiments/update_readme.py` from `experiments/results/convolution.json`, made by "
        f"`{convolution['command']}` on {convolution['machine']}.",
    ]
    return "\n".join(lines)


def render_augmentation(augmentation):
    """The README's table of the augmentation's two resamplers, per backend."""
    lines = [
        "| backend | resampler | ms per batch | vs Keras's | largest difference between the outputs |",
        "|---|---|---|---|---|",
    ]
    for row in augmentation["results"]:
        lines.append(
            f"| {row['backend']} | {row['implementation']} | {row['ms_per_step']:.1f} "
            f"| {row['vs_keras']:.2f}x | {row['max_abs_difference']:.1e} |"
        )
    settings = augmentation["settings"]
    lines += [
        "",
        f"One batch of {settings['images']} images with the same random transforms, in a model's compiled "
        f"predict step; median of {settings['rounds']} rounds of {settings['steps']} steps. Written by "
        "`python experiments/update_readme.py` from `experiments/results/augmentation.json`, made by "
        f"`{augmentation['command']}` on {augmentation['machine']}.",
    ]
    return "\n".join(lines)


def render_finding(rows):
    """One row per results file and model: the variant, the model's test summary, the file."""
    lines = ["| variant | model | test result | results file (made by) |", "|---|---|---|---|"]
    for variant, path in rows:
        run = read(path)
        task = get_task(run["task"])
        for model, entry in run["models"].items():
            summary = task.describe_results(entry["test"])
            source = f"`experiments/{path}` (`{run['command']}`)"
            lines.append(f"| {variant} | {task.models[model].label} | {summary} | {source} |")
    return "\n".join(lines)


def render_throughput_finding(rows):
    lines = [
        "| pipeline | backend | model | training seq/s, buckets / padded | ratio | results file (made by) |",
        "|---|---|---|---|---|---|",
    ]
    for variant, path in rows:
        run = read(path)
        for row in run["results"]:
            if row["backend"] != "tensorflow":
                continue
            lines.append(
                f"| {variant} | {row['backend']} | {row['model']} | {row['sequences_per_second']:.0f} / "
                f"{row['padded_sequences_per_second']:.0f} | {row['ratio_vs_padded']:.2f} "
                f"| `experiments/{path}` (`{run['command']}`) |"
            )
    return "\n".join(lines)


def render_classifier_step_benchmark(path, column, title, ratio):
    """A findings table of the digit classifier's training step per variant, timed per backend in one run.

    Args:
        path: str. The benchmark's results file, relative to experiments/.
        column: str. The row key that names the variant (e.g. `"layout"`).
        title: str. The variant column's heading.
        ratio: (str, str). The row key of the ratio to the baseline and its heading.
    """
    benchmark = read(path)
    ratio_key, ratio_title = ratio
    lines = [f"| backend | {title} | ms per training step | {ratio_title} |", "|---|---|---|---|"]
    for row in benchmark["results"]:
        lines.append(
            f"| {row['backend']} | {row[column]} | {row['ms_per_step']:.1f} | {row[ratio_key]:.2f}x |"
        )
    settings = benchmark["settings"]
    lines += [
        "",
        f"The digit classifier's `train_on_batch` on {settings['images']} images, `{settings['encoder']}`; "
        f"median of {settings['rounds']} rounds of {settings['steps']} steps. "
        f"`experiments/{path}` (`{benchmark['command']}`, {benchmark['machine']}).",
    ]
    return "\n".join(lines)


def render_anchor_precision(rows):
    """The anchor's test results and times with each encoder dtype policy, one row per run and model."""
    lines = [
        "| encoder | model | test result | train s per seed | run's wall time | results file (made by) |",
        "|---|---|---|---|---|---|",
    ]
    for variant, path in rows:
        run = read(path)
        task = get_task(run["task"])
        for model, entry in run["models"].items():
            test = entry["test"]
            lines.append(
                f"| {variant} | {task.models[model].label} | {task.describe_results(test)} "
                f"| {test['train_seconds']:.0f} ± {test['train_seconds_std']:.0f} "
                f"| {wall_time(run)} | `experiments/{path}` (`{run['command']}`) |"
            )
    return "\n".join(lines)


def render_checkpoint(study):
    """The findings' table: best validation epoch against end of schedule, per seed and as a mean."""
    headline, objective, settings = study["headline"], study["objective"], study["settings"]
    name = headline.replace("_", " ")
    lines = [
        f"| seed | best {objective} epoch | its {objective} / last epoch's "
        f"| test {name}: best epoch | test {name}: end of schedule |",
        "|---|---|---|---|---|",
    ]
    for row in study["per_seed"]:
        lines.append(
            f"| {row['seed']} | {row['best_epoch']} of {settings['epochs']} "
            f"| {row['best_validation']:.4f} / {row['last_validation']:.4f} "
            f"| {row['test_best_epoch']:.4f} | {row['test_end_of_schedule']:.4f} |"
        )

    def figures(test):
        found = {name: (test[headline], test[f"{headline}_std"])}
        if "mse" in test:
            found["MSE"] = (test["mse"], test["mse_std"])
        long = test.get(f"{headline}_by_long_length", {})
        if "20" in long:
            found[f"{name} at length 20"] = (long["20"], test[f"{headline}_by_long_length_std"]["20"])
        return found

    best, end = figures(study["best_epoch"]), figures(study["end_of_schedule"])
    compared = "; ".join(
        f"{label} {best[label][0]:.4f} ± {best[label][1]:.4f} (best epoch) against "
        f"{end[label][0]:.4f} ± {end[label][1]:.4f} (end of schedule)"
        for label in best
    )
    lines += [
        "",
        f"Mean ± std over the seeds, on the test sequences: {compared}.",
        "",
        f"The {settings['model']} with the default hyperparameters, {settings['epochs']} epochs of "
        f"{settings['train_sequences']:,} sequences, {settings['validation_sequences']:,} validation "
        f"sequences, {settings['test_sequences']:,} test sequences. "
        f"`experiments/{CHECKPOINT}` (`{study['command']}`, {study['machine']}).",
    ]
    return "\n".join(lines)


def render_backend_drift(path):
    """Findings table: per run of `study_backend_drift.py`, the first steps it leaves the first run's loss."""
    drift = read(path)
    runs, settings = drift["results"], drift["settings"]
    tolerances = list(runs[0]["first_step_apart"])
    lines = [
        "| backend | environment | "
        + " | ".join(f"first step more than {float(t):g} apart" for t in tolerances)
        + f" | loss at step 1 | loss at step {settings['steps']} |",
        "|---" * (4 + len(tolerances)) + "|",
    ]
    for run in runs:
        environment = ", ".join(f"`{key}={value}`" for key, value in run["env"].items()) or "as installed"
        apart = " | ".join(str(run["first_step_apart"][t] or "none") for t in tolerances)
        losses = run["losses"]
        lines.append(f"| {run['backend']} | {environment} | {apart} | {losses[0]:.6f} | {losses[-1]:.4f} |")
    task = get_task(settings["task"])
    label = task.models[settings["model"]].label
    lines += [
        "",
        f"The {label} model of the {task.name} task, {settings['hyperparameters']}, "
        f"trained {settings['steps']} steps from the same weights on the same batches; a step's loss is "
        f'computed before its update, and "apart" is relative to the {REFERENCE_BACKEND} run\'s loss at '
        "that step. "
        f"`experiments/{path}` (`{drift['command']}`, {drift['machine']}).",
    ]
    return "\n".join(lines)


def render_study_beside_runs(*paths):
    """`study_checkpoint.py` runs of one task and model beside every committed default run of them.

    A study trains a model with the default hyperparameters as the main job
    trains its final models, so its end-of-schedule figures compare with the
    main job's rows of that model: on a backend without a committed run, or
    over seeds that the main job did not train. Each study's verdict is the
    results table's (`compare_to_reference`, against the reference
    backend's run).

    Raises:
        ValueError: the studies train different tasks or models.
    """
    studies = [read(path) for path in paths]
    trained = {(study["task"], study["settings"]["model"]) for study in studies}
    if len(trained) > 1:
        raise ValueError(
            f"{', '.join(paths)}: the studies of one table must train one model, not {sorted(trained)}"
        )
    task, model = get_task(studies[0]["task"]), studies[0]["settings"]["model"]
    headline = task.headline
    lines = [
        f"| backend | trained by | test result | test {headline.replace('_', ' ')} per seed "
        "| train s per seed | results file (made by) |",
        "|---|---|---|---|---|---|",
    ]

    def train_seconds(summary):
        return f"{summary['train_seconds']:.0f} ± {summary['train_seconds_std']:.0f}"

    runs = [run for name, run in committed_runs() if name == task.name]
    for run in runs:
        entry, first = run["models"][model], run["settings"]["seed"]
        seeds = ", ".join(map(str, range(first, first + run["settings"]["seeds"])))
        per_seed = " / ".join(f"{row[headline]:.4f}" for row in entry["per_seed"])
        results = os.path.join("experiments", backend_folder("results", run["backend"]), f"{task.name}.json")
        lines.append(
            f"| {run['backend']} | the default main job, seeds {seeds} "
            f"| {task.describe_results(entry['test'])} | {per_seed} | {train_seconds(entry['test'])} "
            f"| `{results}` (`{run['command']}`) |"
        )
    reference = next(run for run in runs if run["backend"] == REFERENCE_BACKEND)["models"]
    comparisons = []
    for path, study in zip(paths, studies, strict=True):
        seeds = ", ".join(map(str, study["settings"]["seeds"]))
        per_seed = " / ".join(f"{row['test_end_of_schedule']:.4f}" for row in study["per_seed"])
        lines.append(
            f"| {study['backend']} | `study_checkpoint.py`, seeds {seeds} "
            f"| {task.describe_results(study['end_of_schedule'])} | {per_seed} "
            f"| {train_seconds(summarize(study['per_seed']))} | `experiments/{path}` (`{study['command']}`) |"
        )
        verdicts = compare_to_reference(task, {model: {"test": study["end_of_schedule"]}}, reference)
        compared = "; ".join(
            f"{key} {with_std(study['end_of_schedule'], key)} against "
            f"{with_std(reference[model]['test'], key)}: {verdict}"
            for _, key, verdict in verdicts
        )
        comparisons.append(
            f"The study on {study['backend']}, seeds {seeds}, against the {REFERENCE_BACKEND} reference run: "
            f"{compared}."
        )
    settings = studies[0]["settings"]
    lines += [
        "",
        f"The {task.models[model].label} model with the default hyperparameters, {settings['epochs']} epochs "
        f"of {settings['train_sequences']:,} sequences, {studies[0]['machine']}. {' '.join(comparisons)}",
    ]
    return "\n".join(lines)


def replace_block(text, name, block):
    """`text` with the part between `<!-- name:start -->` and `<!-- name:end -->` replaced by `block`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise ValueError(f"lacks the {start} ... {end} markers")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block}\n{end}{tail}"


def rewrite(path, blocks):
    with open(path) as f:
        text = f.read()
    for name, block in blocks.items():
        try:
            text = replace_block(text, name, block)
        except ValueError as error:
            raise ValueError(f"{path} {error}") from None
    with open(path, "w") as f:
        f.write(text)


def committed_runs():
    """`[(task name, results file)]`: each task's committed default runs, the reference backend's first."""
    runs = []
    for name in task_names():
        for backend in BACKENDS:
            path = os.path.join(backend_folder("results", backend), f"{name}.json")
            if os.path.exists(os.path.join(HERE, path)):
                runs.append((name, read(path)))
    return runs


def readme_blocks():
    """`{block name: text}` of README.md, from the committed results files that exist."""
    runs = committed_runs()
    classification_path = os.path.join(HERE, "results", "classification.json")
    classification = read("results/classification.json") if os.path.exists(classification_path) else None
    blocks = {"results": render_results(classification, runs)}
    if os.path.exists(os.path.join(HERE, "results", "throughput.json")):
        blocks["performance"] = render_performance(
            "results/throughput.json",
            f"The original project trained at {ORIGINAL_THROUGHPUT} sequences/s on the same kind of machine.",
        )
    if os.path.exists(os.path.join(HERE, "results", "gpu", "throughput.json")):
        blocks["gpu-performance"] = render_performance(
            "results/gpu/throughput.json",
            "The GPU: `experiments/results/gpu/device.txt`.",
        )
    if os.path.exists(os.path.join(HERE, "results", "convolution.json")):
        blocks["convolution"] = render_convolution(read("results/convolution.json"))
    if os.path.exists(os.path.join(HERE, "results", "augmentation.json")):
        blocks["augmentation"] = render_augmentation(read("results/augmentation.json"))
    for name in task_names():
        if os.path.exists(os.path.join(HERE, "results", f"search_study_{name}.json")):
            blocks["search-study"] = render_search_study(read(f"results/search_study_{name}.json"))
    return blocks


def findings_blocks():
    """`{block name: text}` of docs/findings.md."""
    blocks = {name: render_finding(rows) for name, rows in FINDINGS.items()}
    blocks.update({name: render_throughput_finding(rows) for name, rows in THROUGHPUT_FINDING.items()})
    blocks["encoder-layout"] = render_classifier_step_benchmark(
        ENCODER_LAYOUT, "layout", "block order", ("vs_norm_first", "vs Conv-BN-ReLU-MaxPool")
    )
    blocks["encoder-precision"] = render_classifier_step_benchmark(
        ENCODER_PRECISION, "dtype_policy", "encoder dtype policy", ("vs_float32", "vs float32")
    )
    blocks["anchor-precision"] = render_anchor_precision(ANCHOR_PRECISION)
    blocks["checkpoint"] = render_checkpoint(read(CHECKPOINT))
    blocks["backend-drift"] = render_backend_drift(BACKEND_DRIFT)
    blocks.update({name: render_study_beside_runs(*paths) for name, paths in STUDIES_BESIDE_RUNS.items()})
    return blocks


def main():
    import_keras()  # the tasks' summaries import Keras; this keeps its start-up lines quiet
    try:
        rewrite(os.path.join(ROOT, "README.md"), readme_blocks())
        rewrite(os.path.join(ROOT, "docs", "findings.md"), findings_blocks())
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("updated README.md and docs/findings.md from experiments/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
