"""The tables of the studies and benchmarks in docs/performance.md, docs/findings.md and README.md.

Every table is a `mnist_vit.report.Table` spec rendered from a results file
under `experiments/` (paths here are relative to it):

- performance.md `performance`: `results/throughput.json`
  (`benchmark_throughput.py`); `gpu-performance`: `results/gpu/throughput.json`
  (the same benchmark on a GPU machine, `results/gpu/device.txt`);
  `convolution`: `results/convolution.json`; `augmentation`:
  `results/augmentation.json`; `torch-settings`: `TORCH_SETTINGS`
  (`benchmark_torch_settings.py`);
- findings.md `search-study`: `results/search_study_<task>.json`
  (`study_search.py`); one block per finding (`FINDINGS`): the results files
  that the finding compares; `encoder-layout`: `ENCODER_LAYOUT`
  (`benchmark_encoder_layout.py`); `encoder-precision`: `ENCODER_PRECISION`
  (`benchmark_encoder_precision.py`); `anchor-precision`: the anchor's runs in
  `ANCHOR_PRECISION`; `checkpoint`: `CHECKPOINT` (`study_checkpoint.py`);
  `backend-drift`: `BACKEND_DRIFT` (`study_backend_drift.py`);
  `histogram-<task>`: `results/findings/histogram_<task>.json`
  (`study_histogram.py`); `look-back-ascents`: `LOOK_BACK`
  (`study_look_back.py`); `length-answer-<task>`:
  `results/findings/length_answer_<task>.json` (`study_length_answer.py`)
  beside each backend's committed main job of the task; `digit-reading-<task>`:
  `results/findings/digit_reading_<task>.json` (`study_digit_reading.py`);
  `supervised-ceiling`: `SUPERVISED_CEILING` (`study_supervised_ceiling.py`);
  `STUDIES_BESIDE_RUNS`: `study_checkpoint.py` runs beside the committed
  default runs;
- README.md `learning-curves`: `results/findings/learning_curves_<task>.json`
  (`study_learning_curves.py`).

`experiments/update_readme.py` writes them.
"""

import os

from mnist_vit.presentation import presentation_of
from mnist_vit.report import Table, markdown
from mnist_vit.results import REFERENCE_BACKEND, backend_folder, compare_to_reference, summarize, with_std
from mnist_vit.results_table import committed_runs, model_rows, read_results
from mnist_vit.tasks import POOLING, get_task, task_names

EXPERIMENTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
    """The results file at `path`, relative to experiments/."""
    return read_results(os.path.join(EXPERIMENTS, path))


WRITTEN = "Written by `python experiments/update_readme.py` from `experiments/{path}`, made by `{command}`"
SEARCH_STUDY = Table(
    columns=(
        ("trial", "{trial_id}"), ("differs from the defaults in", "{differs}"),
        ("short trial {objective}", "{search_score:.4f}"),
        ("full training: best {objective}", "{full_validation:.4f}"),
        ("full training: test {headline}", "{full_test:.4f}"),
    ),
    caption="Rank correlation (Spearman) of the short trials' scores with full training: {validation} "
    "(validation), {test} (test). The defaults' short trial with {noise_seeds} training seeds scored "
    "{scores} (std {defaults_search_score_std:.4f}), so a margin of {suggested_margin:.3f} separates a "
    "real gain from noise. A search of the preset's {preset_search[trials]} trials chooses trial "
    "{preset_search[best_trial][trial_id]} by score alone (test {preset_search[best_trial][full_test]:.4f}) "
    "and trial {preset_search[with_margin][trial_id]} with the margin (test "
    "{preset_search[with_margin][full_test]:.4f}); the defaults reach "
    "{preset_search[defaults_full_test]:.4f}. "
    "Short trials: {settings[search_epochs]} epochs; full training: {settings[epochs]} epochs of "
    "{settings[train_sequences]:,} sequences, one seed. " + WRITTEN + ".",
)  # fmt: skip
PERFORMANCE = Table(
    columns=(
        ("backend", "{backend}"), ("model", "{model} (batch {batch_size})"),
        ("encoder layout", "{data_format}"),
        ("training seq/s, length buckets", "{sequences_per_second:.0f}"),
        ("training seq/s, padded to 10", "{padded_sequences_per_second:.0f}"),
        ("ratio", "{ratio_vs_padded:.2f}"),
        ("predict seq/s (buckets / padded)",
         "{predict_sequences_per_second:.0f} / {padded_predict_sequences_per_second:.0f}"),
        ("padding share of encoded slots (buckets / padded)",
         "{padding_fraction[bucketed]:.1%} / {padding_fraction[padded]:.1%}"),
        ("peak RSS MB", "{peak_rss_mb:.0f}"),
        ("training step ms, sequences of 1 / 2 / 5 / 10 images", "{step_ms}"),
    ),
    caption=WRITTEN + " on {machine}. {closing}",
)  # fmt: skip
CONVOLUTION = Table(
    columns=(
        ("backend", "{backend}"), ("implementation", "{implementation}"), ("data format", "{data_format}"),
        ("ms per step", "{ms_per_step:.1f}"), ("vs the backend's fastest plain", "{vs_fastest_plain:.2f}x"),
    ),
    caption="Conv({settings[filters][0]}, {settings[kernel_size]}x{settings[kernel_size]}) - ReLU - pool - "
    "conv({settings[filters][1]}) - ReLU - pool on {settings[images]} images: forward, backward and update; "
    "median of {settings[rounds]} rounds of {settings[steps]} steps. " + WRITTEN + " on {machine}.",
)  # fmt: skip
TORCH_SETTINGS = "results/findings/torch_settings.json"  # by experiments/studies/benchmark_torch_settings.py
TORCH_SETTINGS_TABLE = Table(
    columns=(
        ("variant", "{variant}"), ("threads / interop threads", "{threads} / {interop_threads}"),
        ("graphs compiled", "{graphs_compiled}"), ("first epoch s", "{first_epoch_seconds:.1f}"),
        ("training seq/s", "{sequences_per_second:.0f}"), ("vs eager", "{vs_first:.2f}x"),
    ),
    caption="The tuned sum Transformer (`{settings[tuned_results]}`), `model.fit` on length buckets of "
    "batch {results[0][batch_size]}: the first epoch (every bucket shape seen once), then the median of "
    "{settings[rounds]} epochs of {settings[steps]} steps; each variant in its own process. " + WRITTEN
    + " on {machine}.",
)  # fmt: skip
AUGMENTATION = Table(
    columns=(
        ("backend", "{backend}"), ("resampler", "{implementation}"), ("ms per batch", "{ms_per_step:.1f}"),
        ("vs Keras's", "{vs_keras:.2f}x"),
        ("largest difference between the outputs", "{max_abs_difference:.1e}"),
    ),
    caption="One batch of {settings[images]} images with the same random transforms, in a model's compiled "
    "predict step; median of {settings[rounds]} rounds of {settings[steps]} steps. "
    + WRITTEN
    + " on {machine}.",
)  # fmt: skip
FINDING = Table(
    columns=(
        ("variant", "{variant}"), ("model", "{label}"), ("test result", "{ours}"),
        ("results file (made by)", "`experiments/{path}` (`{command}`)"),
    )
)  # fmt: skip
THROUGHPUT_VARIANTS = Table(
    columns=(
        ("pipeline", "{variant}"), ("backend", "{backend}"), ("model", "{model}"),
        ("training seq/s, buckets / padded",
         "{sequences_per_second:.0f} / {padded_sequences_per_second:.0f}"),
        ("ratio", "{ratio_vs_padded:.2f}"), ("results file (made by)", "`experiments/{path}` (`{command}`)"),
    )
)  # fmt: skip
CLASSIFIER_STEP_CAPTION = (
    "The digit classifier's `train_on_batch` on {settings[images]} images, `{settings[encoder]}`; median of "
    "{settings[rounds]} rounds of {settings[steps]} steps. `experiments/{path}` (`{command}`, {machine})."
)
ENCODER_LAYOUT_TABLE = Table(
    columns=(
        ("backend", "{backend}"), ("block order", "{layout}"), ("ms per training step", "{ms_per_step:.1f}"),
        ("vs Conv-BN-ReLU-MaxPool", "{vs_norm_first:.2f}x"),
    ),
    caption=CLASSIFIER_STEP_CAPTION,
)  # fmt: skip
ENCODER_PRECISION_TABLE = Table(
    columns=(
        ("backend", "{backend}"), ("encoder dtype policy", "{dtype_policy}"),
        ("ms per training step", "{ms_per_step:.1f}"), ("vs float32", "{vs_float32:.2f}x"),
    ),
    caption=CLASSIFIER_STEP_CAPTION,
)  # fmt: skip
ANCHOR_PRECISION_TABLE = Table(
    columns=(
        ("encoder", "{variant}"), ("model", "{label}"), ("test result", "{ours}"),
        ("train s per seed", "{test[train_seconds]:.0f} ± {test[train_seconds_std]:.0f}"),
        ("run's wall time", "{wall_time}"), ("results file (made by)", "`experiments/{path}` (`{command}`)"),
    )
)  # fmt: skip
CHECKPOINT_TABLE = Table(
    columns=(
        ("seed", "{seed}"), ("best {objective} epoch", "{best_epoch} of {epochs}"),
        ("its {objective} / last epoch's", "{best_validation:.4f} / {last_validation:.4f}"),
        ("test {name}: best epoch", "{test_best_epoch:.4f}"),
        ("test {name}: end of schedule", "{test_end_of_schedule:.4f}"),
    ),
    caption="Mean ± std over the seeds, on the test sequences: {compared}.\n\nThe {settings[model]} with the "
    "default hyperparameters, {settings[epochs]} epochs of {settings[train_sequences]:,} sequences, "
    "{settings[validation_sequences]:,} validation sequences, {settings[test_sequences]:,} test sequences. "
    "`experiments/{path}` (`{command}`, {machine}).",
)  # fmt: skip
HISTOGRAM = Table(
    columns=(
        ("seed", "{seed}"),
        ("trained: histograms read exactly", "{trained[exact_histogram]:.4f}"),
        ("trained: digit counts read right", "{trained[count_accuracy]:.4f}"),
        ("untrained: histograms read exactly", "{untrained[exact_histogram]:.4f}"),
        ("untrained: digit counts read right", "{untrained[count_accuracy]:.4f}"),
    ),
    caption="Histograms read exactly, mean ± std over the seeds: {trained[exact_histogram]:.4f} ± "
    "{trained[exact_histogram_std]:.4f} trained, {untrained[exact_histogram]:.4f} ± "
    "{untrained[exact_histogram_std]:.4f} untrained. A least-squares map from the `{settings[model]}` "
    "model's pooled features to the ten digit counts, fit on half of {settings[sequences]:,} test sequences "
    "and read on the other half; the run is the default `{task}` main job. `experiments/{path}` "
    "(`{command}`, {machine}).",
)  # fmt: skip
DIGIT_READING = Table(
    columns=(
        ("variant", "{variant}"), ("what it changes", "{change}"), ("p (digit probe)", "{p}"),
        ("{name}, lengths 1-10", "{headline}"), ("at 20 (p^20)", "{at_20} ({limit_20:.3f})"),
        ("at 50 (p^50)", "{at_50} ({limit_50:.3f})"), ("at 100 (p^100)", "{at_100} ({limit_100:.3f})"),
        ("train s per run", "{train_seconds:.0f}"),
    ),
    caption="The {settings[model]} model as the main job trains it ({settings[epochs]} epochs of "
    "{settings[train_sequences_per_epoch]:,} sequences, the searched hyperparameters), changed by each "
    "variant; mean ± std over {seeds} seeds. p: a linear probe's accuracy reading MNIST's test digits "
    "from the frozen encoder; at L: the {name} on {settings[long_sequences]:,} fixed test sequences of L "
    "images; p^L: the exact accuracy there if each digit were read right with probability p. "
    "`experiments/{path}` (`{command}`, {machine}, "
    "{hours:.1f} hours in all).",
)  # fmt: skip
SUPERVISED_CEILING = "results/findings/supervised_ceiling.json"
SUPERVISED_CEILING_TABLE = Table(
    columns=(
        ("encoder", "{encoder}"), ("conv blocks", "{filters}"), ("test accuracy", "{accuracy}"),
        ("per seed", "{per_seed}"), ("parameters", "{parameters:,}"),
        ("train s per run", "{train_seconds:.0f}"),
    ),
    caption="Each encoder taught the digits' labels by `experiments/train_classifier.py` (its training, the "
    "encoder's conv blocks changed), tested on MNIST's 10,000 test images; mean ± std over {seeds} seeds. "
    "`experiments/{path}` (`{command}`, {machine}, {hours:.1f} hours in all).",
)  # fmt: skip
LOOK_BACK = "results/findings/look_back_ascents.json"
LOOK_BACK_TABLE = Table(
    columns=(
        ("seed", "{seed}"),
        ("share on the slot before", "{previous:.4f}"),
        ("share on the sink", "{sink:.4f}"),
        ("share farther back", "{farther:.4f}"),
        ("test slots whose digit is read right", "{digit_reading_accuracy:.4f}"),
    ),
    caption="Mean ± std over the seeds: share on the slot before {summary[previous]:.4f} ± "
    "{summary[previous_std]:.4f}, digits read right {summary[digit_reading_accuracy]:.4f} ± "
    "{summary[digit_reading_accuracy_std]:.4f}. Shares: where slots 2..10 of a full sequence of 10 look, "
    "averaged; digits: the most likely class of each real slot of {settings[sequences]:,} test sequences "
    "against its true digit. The `{settings[model]}` models of the default `{task}` main job. "
    "`experiments/{path}` (`{command}`, {machine}).",
)  # fmt: skip
LENGTH_ANSWER_CAPTION = (
    "{figure} by length: the answer most frequent among the test sequences of each length (the best a "
    "model that only counts its images can give), beside the {label} model's by-length test result on each "
    "backend (mean over its seeds, from `experiments/results/[<backend>/]{task}.json`), the same "
    "{sequences:,} test sequences. `experiments/{path}` (`{command}`)."
)
STUDY_BESIDE_RUNS = Table(
    columns=(
        ("backend", "{backend}"), ("trained by", "{trained_by}"), ("test result", "{ours}"),
        ("test {name} per seed", "{per_seed}"), ("train s per seed", "{train_seconds}"),
        ("results file (made by)", "`{path}` (`{command}`)"),
    ),
    caption="The {label} model with the default hyperparameters, {settings[epochs]} epochs of "
    "{settings[train_sequences]:,} sequences, {machine}. {comparisons}",
)  # fmt: skip


def headed(table, **fields):
    """`table` with its headings' templates filled from `fields` (e.g. a study's objective)."""
    return Table(
        columns=tuple((heading.format(**fields), cell) for heading, cell in table.columns),
        caption=table.caption,
    )


def render_search_study(path):
    """What the `cpu` search's short trials say about full training: one row per configuration."""
    study = read(path)
    defaults = study["configs"][0]["hyperparameters"]
    rows = []
    for row in study["configs"]:
        changed = {k: v for k, v in row["hyperparameters"].items() if v != defaults[k]}
        differs = ", ".join(
            f"{k} {v:.2g}" if isinstance(v, float) else f"{k} {v}" for k, v in changed.items()
        )
        rows.append({**row, "differs": differs or "(the defaults)"})
    correlation = study["rank_correlation"]

    def rounded(value):
        return "n/a" if value is None else f"{value:.2f}"

    context = {
        **study, "path": path, "validation": rounded(correlation["search_vs_full_validation"]),
        "test": rounded(correlation["search_vs_full_test"]),
        "noise_seeds": len(study["defaults_search_scores"]),
        "scores": ", ".join(f"{score:.4f}" for score in study["defaults_search_scores"]),
    }  # fmt: skip
    return markdown(headed(SEARCH_STUDY, **study), context, rows)


def render_performance(path, closing):
    """The throughput table of `benchmark_throughput.py`'s results file `path` (relative to experiments/)."""
    throughput = read(path)
    # A file written before the encoder's `data_format` option ran every backend in Keras's default layout.
    rows = [
        {
            "data_format": "channels_last",
            **row,
            "step_ms": " / ".join(f"{ms:.1f}" for ms in row["step_ms_by_slots"].values()),
        }
        for row in throughput["results"]
    ]
    return markdown(PERFORMANCE, {**throughput, "path": path, "closing": closing}, rows)


def render_benchmark(table, path):
    """A benchmark's table: a row per row of its results file `path` (relative to experiments/)."""
    return markdown(table, {**read(path), "path": path})


def render_finding(table, variants):
    """One row per results file and model: the variant, the model's test summary, the file."""
    rows = []
    for variant, path in variants:
        rows += model_rows(read(path), variant=variant, path=path)
    return markdown(table, {}, rows)


def render_throughput_finding(variants):
    """The TensorFlow rows of throughput benchmarks run with other input pipelines."""
    rows = []
    for variant, path in variants:
        run = read(path)
        rows += [
            {**row, "variant": variant, "path": path, "command": run["command"]}
            for row in run["results"]
            if row["backend"] == "tensorflow"
        ]
    return markdown(THROUGHPUT_VARIANTS, {}, rows)


def render_histogram(path):
    """A row per seed of `study_histogram.py`: a linear map reading the histogram from the pooled features."""
    study = read(path)
    return markdown(HISTOGRAM, {**study, "path": path}, study["per_seed"])


def render_supervised_ceiling(path):
    """A row per encoder of `study_supervised_ceiling.py`: its test accuracy taught digit labels."""
    study = read(path)
    rows = [
        {
            "encoder": name,
            "filters": ", ".join(map(str, found["filters"])),
            "accuracy": with_std(found["test"], "test_accuracy", seeds=len(found["per_seed"])),
            "per_seed": " / ".join(f"{row['test_accuracy']:.4f}" for row in found["per_seed"]),
            "parameters": found["per_seed"][0]["parameters"],
            "train_seconds": found["test"]["train_seconds"],
        }
        for name, found in study["encoders"].items()
    ]
    seeds, hours = len(study["settings"]["seeds"]), study["wall_seconds"] / 3600
    context = {**study, "path": path, "seeds": seeds, "hours": hours}
    return markdown(SUPERVISED_CEILING_TABLE, context, rows)


def render_digit_reading(path):
    """A row per variant of `study_digit_reading.py`: p, the headline over 1-10 and far beyond, train time."""
    study = read(path)
    headline = study["headline"]
    rows = []
    for variant, found in study["variants"].items():
        test, epochs = found["test"], found["epochs"]
        changes = [f"{key} {value}" for key, value in found["changes"].items()]
        changes += [f"{epochs} epochs"] if epochs != study["settings"]["epochs"] else []
        rows.append(
            {
                "variant": variant.replace("_", " "),
                "change": ", ".join(changes) or "nothing",
                "p": with_std(test, "digit_probe_accuracy"),
                "headline": with_std(test, headline, digits=3),
                **{f"at_{n}": with_std(test, f"{headline}_at_length", 3, n) for n in found["reader_limit"]},
                **{f"limit_{n}": limit for n, limit in found["reader_limit"].items()},
                "train_seconds": test["train_seconds"],
            }
        )
    table = headed(DIGIT_READING, name=headline.replace("_", " "))
    fields = {"path": path, "seeds": len(study["settings"]["seeds"]), "hours": study["wall_seconds"] / 3600}
    return markdown(table, {**study, **fields, "name": headline.replace("_", " ")}, rows)


def render_length_answer(path):
    """A row per length of `study_length_answer.py`: the best answer from the length alone and what it
    scores, beside the pooling model's by-length result in each backend's committed main job of the task."""
    study = read(path)
    task, headline = get_task(study["task"]), study["headline"]
    pooled = next(name for name, spec in task.models.items() if spec.kind == POOLING)
    runs = [run for name, run in committed_runs(os.path.join(EXPERIMENTS, "results")) if name == task.name]
    for run in runs:
        if run["settings"]["test_sequences"] != study["settings"]["test_sequences"]:
            raise ValueError(f"{path}: the {run['backend']} run of {task.name} was tested on other sequences")
    columns = (("length", "{length}"), ("answer", "{answer}"), ("from the length alone", "{alone:.4f}"))
    columns += tuple((run["backend"], f"{{{run['backend']}:.4f}}") for run in runs)
    alone = study["by_length"]["test"]
    rows = [
        {"length": length, "answer": f"{answer:g}", "alone": alone[f"{headline}_by_length"][length]}
        | {run["backend"]: run["models"][pooled]["test"][f"{headline}_by_length"][length] for run in runs}
        for length, answer in study["by_length"]["answer"].items()
    ]
    rows.append(
        {"length": "1-10", "answer": "", "alone": alone[headline]}
        | {run["backend"]: run["models"][pooled]["test"][headline] for run in runs}
    )
    context = {
        **study, "path": path, "sequences": study["settings"]["test_sequences"],
        "label": presentation_of(task.name).label(pooled), "figure": headline.replace("_", " ").capitalize(),
    }  # fmt: skip
    return markdown(Table(columns=columns, caption=LENGTH_ANSWER_CAPTION), context, rows)


def render_look_back(path):
    """A row per seed of `study_look_back.py`: where the ascents Transformer looks, how it reads digits."""
    study = read(path)
    return markdown(LOOK_BACK_TABLE, {**study, "path": path}, study["per_seed"])


def render_checkpoint(path):
    """The findings' table: best validation epoch against end of schedule, per seed and as a mean."""
    study = read(path)
    headline, settings = study["headline"], study["settings"]
    name = headline.replace("_", " ")

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
    rows = [{**row, "epochs": settings["epochs"]} for row in study["per_seed"]]
    table = headed(CHECKPOINT_TABLE, objective=study["objective"], name=name)
    return markdown(table, {**study, "path": path, "compared": compared}, rows)


def render_backend_drift(path):
    """Findings table: per run of `study_backend_drift.py`, the first steps it leaves the first run's loss."""
    drift = read(path)
    runs, settings = drift["results"], drift["settings"]
    tolerances = list(runs[0]["first_step_apart"])
    columns = (
        ("backend", "{backend}"),
        ("environment", "{environment}"),
        *((f"first step more than {float(t):g} apart", f"{{apart[{i}]}}") for i, t in enumerate(tolerances)),
        ("loss at step 1", "{losses[0]:.6f}"),
        (f"loss at step {settings['steps']}", "{last_loss:.4f}"),
    )
    rows = [
        {
            **run,
            "environment": ", ".join(f"`{key}={value}`" for key, value in run["env"].items())
            or "as installed",
            "apart": [str(run["first_step_apart"][t] or "none") for t in tolerances],
            "last_loss": run["losses"][-1],
        }
        for run in runs
    ]
    task = get_task(settings["task"])
    caption = (
        "The {label} model of the {task} task, {settings[hyperparameters]}, trained {settings[steps]} steps "
        "from the same weights on the same batches; a step's loss is computed before its update, and "
        f'"apart" is relative to the {REFERENCE_BACKEND} run\'s loss at that step. '
        "`experiments/{path}` (`{command}`, {machine})."
    )
    context = {
        **drift,
        "path": path,
        "label": presentation_of(task.name).label(settings["model"]),
        "task": task.name,
    }
    return markdown(Table(columns, caption), context, rows)


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
    shown = presentation_of(task.name)
    headline = task.headline

    def train_seconds(summary):
        return f"{summary['train_seconds']:.0f} ± {summary['train_seconds_std']:.0f}"

    runs = [run for name, run in committed_runs() if name == task.name]
    rows = []
    for run in runs:
        entry, first = run["models"][model], run["settings"]["seed"]
        seeds = ", ".join(map(str, range(first, first + run["settings"]["seeds"])))
        rows.append(
            {
                "backend": run["backend"], "trained_by": f"the default main job, seeds {seeds}",
                "ours": shown.results(task, entry["test"]),
                "per_seed": " / ".join(f"{row[headline]:.4f}" for row in entry["per_seed"]),
                "train_seconds": train_seconds(entry["test"]),
                "path": os.path.join(
                    "experiments", backend_folder("results", run["backend"]), f"{task.name}.json"
                ),
                "command": run["command"],
            }
        )  # fmt: skip
    reference = next(run for run in runs if run["backend"] == REFERENCE_BACKEND)
    comparisons = []
    for path, study in zip(paths, studies, strict=True):
        seeds = ", ".join(map(str, study["settings"]["seeds"]))
        rows.append(
            {
                "backend": study["backend"], "trained_by": f"`study_checkpoint.py`, seeds {seeds}",
                "ours": shown.results(task, study["end_of_schedule"]),
                "per_seed": " / ".join(f"{row['test_end_of_schedule']:.4f}" for row in study["per_seed"]),
                "train_seconds": train_seconds(summarize(study["per_seed"])), "path": f"experiments/{path}",
                "command": study["command"],
            }
        )  # fmt: skip
        verdicts = compare_to_reference(task, {model: {"test": study["end_of_schedule"]}}, reference)
        compared = "; ".join(
            f"{key} {with_std(study['end_of_schedule'], key, seeds=len(study['settings']['seeds']))} against "
            f"{with_std(reference['models'][model]['test'], key, seeds=reference['settings']['seeds'])}: "
            f"{verdict}"
            for _, key, verdict in verdicts
        )
        comparisons.append(
            f"The study on {study['backend']}, seeds {seeds}, against the {REFERENCE_BACKEND} reference run: "
            f"{compared}."
        )
    context = {
        **studies[0], "label": shown.label(model), "comparisons": " ".join(comparisons),
    }  # fmt: skip
    return markdown(headed(STUDY_BESIDE_RUNS, name=headline.replace("_", " ")), context, rows)


def render_learning_curves(paths):
    """One figure and table per `study_learning_curves.py` results file in `paths` (relative to
    experiments/): the committed figure, then a row per model and figure (the headline, then the task's key
    metrics), a column per training-pool size.

    A study still under way (its `missing` points not yet trained) shows the sizes at which every model is
    done, no figure (the study draws it at the end), and the sizes still to train.
    """
    tables = []
    for path in paths:
        study = read(path)
        task = get_task(study["task"])
        missing = sorted({point["train_sequences"] for point in study["missing"]})
        curves = {
            model: [point for point in points if point["train_sequences"] not in missing]
            for model, points in study["curves"].items()
        }
        sizes = [(point["train_sequences"], point["fresh"]) for point in next(iter(curves.values()))]
        if not sizes:
            tables.append(f"{task.name}: no size is done yet by `{study['command']}` (`experiments/{path}`).")
            continue
        columns = (("model", "{model}"), ("test", "{figure}")) + tuple(
            (f"{size:,}" + (" (new every epoch)" if fresh else ""), f"{{cell_{i}}}")
            for i, (size, fresh) in enumerate(sizes)
        )
        rows = []
        for model, points in curves.items():
            if [(point["train_sequences"], point["fresh"]) for point in points] != sizes:
                raise ValueError(f"{path}: the {model}'s points are not at the other models' sizes")
            label = presentation_of(task.name).label(model)
            for figure in (task.headline, *task.key_metrics):
                cells = {f"cell_{i}": with_std(p["test"], figure, digits=3) for i, p in enumerate(points)}
                rows.append({"model": label, "figure": figure, **cells})
            if all("epochs_trained" in p for p in points):
                cells = {f"cell_{i}": " / ".join(map(str, p["epochs_trained"])) for i, p in enumerate(points)}
                rows.append({"model": label, "figure": "epochs trained", **cells})
        seeds = len(study["settings"]["seeds"])
        constant = study["constant_answer"]
        scores = ", ".join(f"{figure} {value:.3f}" for figure, value in constant["test"].items())
        shown = "the figure above"
        if missing:
            shown = "sizes still to train (the command resumes): " + ", ".join(f"{n:,}" for n in missing)
        patience = study["made_by"].get("patience")
        if patience:
            shown = f"each run ended once validation had not improved for {patience} epochs; " + shown
        table = Table(
            columns=columns,
            caption=f"{task.name}: mean ± std over {seeds} seeds by distinct training "
            f"sequences ({study['wall_seconds'] / 3600:.1f} hours in all), {shown}. Always giving the test "
            f"sequences' most frequent answer ({constant['answer']:g}) scores {scores}. " + WRITTEN + ".",
        )
        rendered = markdown(table, {"path": path, "command": study["command"]}, rows)
        if not missing:
            figure = f"figures/{task.name}_learning_curve.png"
            rendered = f"![{task.name}: learning curves]({figure})\n\n{rendered}"
        tables.append(rendered)
    return "\n\n".join(tables)


def performance_blocks():
    """`{block name: text}` of docs/performance.md, from the benchmarks' results files that exist."""
    blocks = {}
    if os.path.exists(os.path.join(EXPERIMENTS, "results", "throughput.json")):
        blocks["performance"] = render_performance(
            "results/throughput.json",
            f"The original project trained at {ORIGINAL_THROUGHPUT} sequences/s on the same kind of machine.",
        )
    if os.path.exists(os.path.join(EXPERIMENTS, "results", "gpu", "throughput.json")):
        blocks["gpu-performance"] = render_performance(
            "results/gpu/throughput.json",
            "The GPU: `experiments/results/gpu/device.txt`.",
        )
    if os.path.exists(os.path.join(EXPERIMENTS, "results", "convolution.json")):
        blocks["convolution"] = render_benchmark(CONVOLUTION, "results/convolution.json")
    if os.path.exists(os.path.join(EXPERIMENTS, "results", "augmentation.json")):
        blocks["augmentation"] = render_benchmark(AUGMENTATION, "results/augmentation.json")
    if os.path.exists(os.path.join(EXPERIMENTS, TORCH_SETTINGS)):
        blocks["torch-settings"] = render_benchmark(TORCH_SETTINGS_TABLE, TORCH_SETTINGS)
    return blocks


def learning_curve_blocks():
    """`{"learning-curves": text}` of README.md: the committed learning-curve studies, or the command that
    makes one where none is committed."""
    paths = [f"results/findings/learning_curves_{name}.json" for name in task_names()]
    paths = [path for path in paths if os.path.exists(os.path.join(EXPERIMENTS, path))]
    if not paths:
        command = "python experiments/studies/study_learning_curves.py --task anchor --publish"
        return {"learning-curves": f"No learning-curve study is committed yet: `{command}` begins one."}
    return {"learning-curves": render_learning_curves(paths)}


def findings_blocks():
    """`{block name: text}` of docs/findings.md."""
    blocks = {name: render_finding(FINDING, variants) for name, variants in FINDINGS.items()}
    blocks.update({name: render_throughput_finding(rows) for name, rows in THROUGHPUT_FINDING.items()})
    blocks["encoder-layout"] = render_benchmark(ENCODER_LAYOUT_TABLE, ENCODER_LAYOUT)
    blocks["encoder-precision"] = render_benchmark(ENCODER_PRECISION_TABLE, ENCODER_PRECISION)
    blocks["anchor-precision"] = render_finding(ANCHOR_PRECISION_TABLE, ANCHOR_PRECISION)
    blocks["checkpoint"] = render_checkpoint(CHECKPOINT)
    blocks["backend-drift"] = render_backend_drift(BACKEND_DRIFT)
    blocks.update({name: render_study_beside_runs(*paths) for name, paths in STUDIES_BESIDE_RUNS.items()})
    if os.path.exists(os.path.join(EXPERIMENTS, LOOK_BACK)):
        blocks["look-back-ascents"] = render_look_back(LOOK_BACK)
    if os.path.exists(os.path.join(EXPERIMENTS, SUPERVISED_CEILING)):
        blocks["supervised-ceiling"] = render_supervised_ceiling(SUPERVISED_CEILING)
    for name in task_names():
        if os.path.exists(os.path.join(EXPERIMENTS, "results", f"search_study_{name}.json")):
            blocks["search-study"] = render_search_study(f"results/search_study_{name}.json")
        reading = f"results/findings/digit_reading_{name}.json"
        if os.path.exists(os.path.join(EXPERIMENTS, reading)):
            blocks[f"digit-reading-{name}"] = render_digit_reading(reading)
        histogram = f"results/findings/histogram_{name}.json"
        if os.path.exists(os.path.join(EXPERIMENTS, histogram)):
            blocks[f"histogram-{name}"] = render_histogram(histogram)
        length_answer = f"results/findings/length_answer_{name}.json"
        if os.path.exists(os.path.join(EXPERIMENTS, length_answer)):
            blocks[f"length-answer-{name}"] = render_length_answer(length_answer)
    return blocks
