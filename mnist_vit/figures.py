"""Figures written by the experiments (matplotlib, no screen needed).

Every task gets its training curves and its accuracy by length; a task whose
presentation has `examples` (`mnist_vit.presentation`) also gets a figure of
test examples with the trained attention model's answers.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from mnist_vit.safe_files import atomic_write
from mnist_vit.sequences import MAX_LEN


def save_figure(fig, folder, name):
    """Saves `fig` as `folder/name` atomically (`atomic_write`), closes it and returns the path."""
    path = os.path.join(folder, name)
    atomic_write(path, ".png", lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight"))
    plt.close(fig)
    return path


def plot_histories(histories, labels, metric, title, folder, name):
    """Loss and `metric` over epochs, train (dashed) and validation (solid), one colour per model.

    Args:
        histories: dict of model name -> `mnist_vit.callbacks.read_history`'s dict.
        labels: dict of model name -> label.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for (model_name, history), color in zip(histories.items(), plt.cm.tab10.colors, strict=False):
        epochs = np.arange(1, len(history["loss"]) + 1)
        label = labels[model_name]
        for ax, key in zip(axes, ("loss", metric), strict=True):
            ax.plot(
                epochs, history[key], "--", color=color, alpha=0.7, ms=2, marker="o", label=f"{label} train"
            )
            ax.plot(
                epochs, history[f"val_{key}"], "-", color=color, ms=2, marker="o", label=f"{label} validation"
            )
    axes[0].set_yscale("log")
    for ax, key in zip(axes, ("loss", metric), strict=True):
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle(title)
    return save_figure(fig, folder, name)


def reader_limits(models, curves):
    """The `plot_by_length` limits of a task's results: p**L for each model with a digit probe.

    Args:
        models: a results file's `"models"`; a model whose test summary has
            `digit_probe_accuracy` (p, mean over seeds) gets a limit.
        curves: dict of model name -> `{str(length): value}`: the lengths.

    Returns:
        dict of model name -> (p, `{str(length): p**length}`).
    """
    from mnist_vit.digit_probe import reader_limit

    limits = {}
    for name, by_length in curves.items():
        p = models[name]["test"].get("digit_probe_accuracy")
        if p is not None:
            limits[name] = (p, reader_limit(p, sorted(int(k) for k in by_length)))
    return limits


def plot_by_length(curves, labels, ylabel, title, folder, name, limits=None):
    """Accuracy by sequence length, one line per model; the trained range is shaded.

    Args:
        curves: dict of model name -> `{str(length): value}`.
        labels: dict of model name -> label.
        limits: dict of model name -> (p, `{str(length): p**length}`) from
            `reader_limits`, each drawn dashed in its model's colour, or None.
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    for model_name, by_length in curves.items():
        lengths = sorted(int(k) for k in by_length)
        (line,) = ax.plot(
            lengths,
            [by_length[str(n)] for n in lengths],
            "o-",
            ms=3,
            label=labels[model_name],
        )
        if model_name in (limits or {}):
            p, limit = limits[model_name]
            ax.plot(
                lengths, [limit[str(n)] for n in lengths], "--", lw=1, color=line.get_color(),
                label=f"p^L: one digit read right with p = {p:.4f} (linear probe)",
            )  # fmt: skip
    ax.axvspan(0.5, MAX_LEN + 0.5, color="grey", alpha=0.15, label=f"trained lengths 1..{MAX_LEN}")
    ax.set_xlabel("sequence length")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return save_figure(fig, folder, name)


def plot_learning_curves(results, labels, folder, name):
    """Test headline against distinct training sequences (log scale): a line per model, mean ± std shaded.

    Args:
        results: `study_learning_curves.py`'s results dict: `headline`, and
            `curves`, model name -> list of points `{"train_sequences",
            "fresh", "test": {headline, headline_std}}`; a point whose
            sequences are `fresh` (new every epoch) is drawn hollow; and
            `constant_answer`: `{"answer", "test": {headline}}`, what
            always giving the most frequent answer scores, drawn dashed.
        labels: dict of model name -> label.
    """
    headline = results["headline"]
    fig, ax = plt.subplots(figsize=(8, 4))
    constant = results["constant_answer"]
    ax.axhline(
        constant["test"][headline], color="gray", ls="--", lw=1,
        label=f"always answering {constant['answer']:g}",
    )  # fmt: skip
    for model_name, points in results["curves"].items():
        sizes = np.array([p["train_sequences"] for p in points], dtype=float)
        mean = np.array([p["test"][headline] for p in points])
        std = np.array([p["test"][f"{headline}_std"] for p in points])
        (line,) = ax.plot(sizes, mean, "o-", ms=4, label=labels[model_name])
        ax.fill_between(sizes, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        fresh = [p["fresh"] for p in points]
        ax.plot(sizes[fresh], mean[fresh], "o", ms=8, mfc="white", color=line.get_color())
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("distinct training sequences (hollow: new sequences every epoch)")
    ax.set_ylabel(f"test {headline.replace('_', ' ')}")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(f"{results['task']}: test {headline.replace('_', ' ')} by training sequences, mean ± std")
    return save_figure(fig, folder, name)


def example_rows(targets, count):
    """Row indices of up to `count` examples that differ in their answers, in order.

    Takes rows in turn from each target value (values in order of first
    appearance), so a yes/no task shows as many of each as it can and a
    counting task shows `count` different answers.
    """
    by_value = {}
    for row, value in enumerate(targets):
        by_value.setdefault(value, []).append(row)
    rows = []
    for rank in range(len(targets)):
        rows += [group[rank] for group in by_value.values() if rank < len(group)]
        if len(rows) >= count:
            break
    return np.sort(rows[:count])


def plot_examples(task, examples, model, split, folder, count=6):
    """Fixed test sequences with `model`'s answers; returns the path of `{task.name}_examples.png`.

    One row per example: the anchor (framed blue) in tasks that have one, then
    the sequence's images, and the caption of `examples` (`Examples`) over the
    row in green (right) or red (wrong); with `examples.slot_weights`, each
    image's weight as an orange bar under it.

    Args:
        task: `Task`.
        examples: `mnist_vit.presentation.Examples`.
        model: the task's trained model.
        split: `DigitSplit`, the test images.
    """
    from mnist_vit.sequences import TEST_SEED, SequenceBatches

    batches = SequenceBatches(split, task, 10 * count, batch_size=10 * count, seed=TEST_SEED, pad_to=MAX_LEN)
    inputs, targets = batches[0]
    rows = example_rows(targets[:, 0], count)
    inputs = {key: value[rows] for key, value in inputs.items()}
    targets = targets[rows, 0]
    values = model.predict(inputs, verbose=0)[:, 0]
    weights = (
        None if examples.slot_weights is None else examples.slot_weights(model).predict(inputs, verbose=0)
    )
    images = ([inputs["anchor"]] if task.has_anchor else []) + [
        inputs["sequence"][:, slot] for slot in range(MAX_LEN)
    ]
    first_slot = len(images) - MAX_LEN
    fig, axes = plt.subplots(
        len(rows), len(images), figsize=(len(images) * 0.95, len(rows) * 1.45), squeeze=False
    )
    for row, row_axes in enumerate(axes):
        for column, ax in enumerate(row_axes):
            ax.set_xticks([])
            ax.set_yticks([])
            slot = column - first_slot
            if slot >= 0 and not inputs["mask"][row, slot]:
                ax.axis("off")
                continue
            ax.imshow(images[column][row, :, :, 0], cmap="gray")
            if slot < 0:
                for spine in ax.spines.values():
                    spine.set_edgecolor("tab:blue")
                    spine.set_linewidth(3)
            elif weights is not None:
                weight = weights[row, slot]
                ax.add_patch(
                    plt.Rectangle(
                        (0, -0.14), weight, 0.09, transform=ax.transAxes, color="tab:orange", clip_on=False
                    )
                )
                ax.set_xlabel(f"{weight:.2f}", fontsize=8, labelpad=9)
        caption, right = examples.caption(float(values[row]), float(targets[row]))
        row_axes[0].set_title(caption, loc="left", fontsize=8, color="green" if right else "red")
    fig.suptitle(examples.title)
    fig.tight_layout()
    return save_figure(fig, folder, f"{task.name}_examples.png")


def redo(run_root, model_name):
    """What to do about a damaged file of seed 0's finished run of `model_name`."""
    from mnist_vit.training import final_run_dir

    return f"delete {final_run_dir(run_root, model_name, 0)} to train and test it again"


def write_task_figures(task, results, run_root, folder, test_split):
    """Writes the figures of a finished `run_tuner.py` run; returns their paths.

    `{task}_training.png` (seed 0's training curves), `{task}_by_length.png`
    (the test headline by length, lengths 1..100 where measured, the
    anchor's digit absent from half of those sequences on a task with an
    anchor, and p**L beside each model with a digit probe, `reader_limits`) and the example
    figure (`{task}_examples.png`), if its presentation has one, drawn with
    seed 0's attention model.
    Every figure of a task is named `{task}_*.png`.
    """
    from mnist_vit.callbacks import read_history
    from mnist_vit.presentation import presentation_of
    from mnist_vit.run_folder import read_model
    from mnist_vit.training import FINAL_MODEL, final_run_dir

    os.makedirs(folder, exist_ok=True)
    models = results["models"]
    presentation = presentation_of(task.name)
    labels = {name: presentation.label(name) for name in models}
    histories = {
        name: read_history(os.path.join(final_run_dir(run_root, name, 0), "train"), redo(run_root, name))
        for name in models
    }
    metric = task.headline
    written = [
        plot_histories(
            histories, labels, metric, f"{task.name} task: training curves (seed 0)", folder,
            f"{task.name}_training.png",
        )
    ]  # fmt: skip
    curves = {
        name: m["test"].get(f"{metric}_by_long_length") or m["test"][f"{metric}_by_length"]
        for name, m in models.items()
    }
    ylabel = metric.replace("_", " ")
    title = f"{task.name} task: {ylabel} by length (test)"
    if task.has_anchor and any(f"{metric}_by_long_length" in m["test"] for m in models.values()):
        title += "\nlengths 1..100: the anchor's digit absent from half the sequences"
    written.append(
        plot_by_length(
            curves,
            labels,
            ylabel,
            title,
            folder,
            f"{task.name}_by_length.png",
            reader_limits(models, curves),
        )
    )
    if presentation.examples is not None:
        path = os.path.join(final_run_dir(run_root, task.searched_model, 0), "train", FINAL_MODEL)
        model = read_model(path, redo(run_root, task.searched_model))
        written.append(plot_examples(task, presentation.examples, model, test_split, folder))
    return written
