"""Figures written by the experiments (matplotlib, no screen needed).

Every task gets its training curves and its accuracy by length; a task may add
a figure of test examples (`Task.example_figure`), drawn with `plot_sequences`
or on its own.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

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


def plot_by_length(curves, labels, ylabel, title, folder, name):
    """Accuracy by sequence length, one line per model; the trained range is shaded.

    Args:
        curves: dict of model name -> `{str(length): value}`.
        labels: dict of model name -> label.
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    for model_name, by_length in curves.items():
        lengths = sorted(int(k) for k in by_length)
        ax.plot(
            lengths,
            [by_length[str(n)] for n in lengths],
            "o-",
            ms=3,
            label=labels[model_name],
        )
    ax.axvspan(0.5, MAX_LEN + 0.5, color="grey", alpha=0.15, label=f"trained lengths 1..{MAX_LEN}")
    ax.set_xlabel("sequence length")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return save_figure(fig, folder, name)


def plot_sequences(inputs, captions, correct, title, folder, name):
    """A grid of sequences, one row each, with a caption over each row in green (correct) or red.

    Args:
        inputs: dict with `"sequence"` float `(rows, MAX_LEN, 28, 28, 1)` and
            `"mask"` bool `(rows, MAX_LEN)`.
        captions: list of str, one per row.
        correct: bool `(rows,)`.
    """
    count = len(captions)
    fig, axes = plt.subplots(count, MAX_LEN, figsize=(MAX_LEN * 0.9, count * 1.05), squeeze=False)
    for row in range(count):
        for slot in range(MAX_LEN):
            ax = axes[row, slot]
            ax.axis("off")
            if inputs["mask"][row, slot]:
                ax.imshow(inputs["sequence"][row, slot, :, :, 0], cmap="gray")
        axes[row, 0].set_title(
            captions[row], loc="left", fontsize=8, color="green" if correct[row] else "red"
        )
    fig.suptitle(title)
    return save_figure(fig, folder, name)


def redo(run_root, model_name):
    """What to do about a damaged file of seed 0's finished run of `model_name`."""
    from mnist_vit.training import final_run_dir

    return f"delete {final_run_dir(run_root, model_name, 0)} to train and test it again"


def write_task_figures(task, results, run_root, folder, test_split):
    """Writes the figures of a finished `run_tuner.py` run; returns their paths.

    `{task}_training.png` (seed 0's training curves), `{task}_by_length.png`
    (the test headline by length, lengths 1..50 where measured) and the
    task's example figure, if it has one, drawn with seed 0's attention model.
    Every figure of a task is named `{task}_*.png`.
    """
    from mnist_vit.callbacks import read_history
    from mnist_vit.run_folder import read_model
    from mnist_vit.training import FINAL_MODEL, final_run_dir

    os.makedirs(folder, exist_ok=True)
    models = results["models"]
    labels = {name: task.models[name].label for name in models}
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
    written.append(plot_by_length(curves, labels, ylabel, title, folder, f"{task.name}_by_length.png"))
    if task.example_figure is not None:
        path = os.path.join(final_run_dir(run_root, task.searched_model, 0), "train", FINAL_MODEL)
        model = read_model(path, redo(run_root, task.searched_model))
        written.append(task.example_figure(model, test_split, folder))
    return written
