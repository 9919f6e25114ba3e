"""Figures written by the experiments (matplotlib, no screen needed)."""

import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mnist_vit.sequences import MAX_LEN, TEST_SEED

MODEL_LABELS = {"transformer": "Transformer", "fc": "fully connected", "deepsets": "Deep Sets"}


def read_history(path):
    """Reads a CSVLogger file into `{column: np.ndarray}`."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0]}


def _save(fig, folder, name):
    path = os.path.join(folder, name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_histories(histories, metric, title, folder, name):
    """Loss and `metric` over epochs, train (dashed) and validation (solid), one colour per model."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for (model_name, history), color in zip(histories.items(), plt.cm.tab10.colors, strict=False):
        epochs = history["epoch"] + 1
        label = MODEL_LABELS.get(model_name, model_name)
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
    return _save(fig, folder, name)


def plot_by_length(curves, ylabel, title, folder, name):
    """Accuracy by sequence length, one line per model; the trained range is shaded."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for model_name, by_length in curves.items():
        lengths = sorted(int(k) for k in by_length)
        ax.plot(
            lengths,
            [by_length[str(n)] for n in lengths],
            "o-",
            ms=3,
            label=MODEL_LABELS.get(model_name, model_name),
        )
    ax.axvspan(0.5, MAX_LEN + 0.5, color="grey", alpha=0.15, label=f"trained lengths 1..{MAX_LEN}")
    ax.set_xlabel("sequence length")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, folder, name)


def plot_sum_examples(model, split, folder, name, count=6, seed=TEST_SEED):
    """A grid of test sequences with the predicted and the true sum."""
    from mnist_vit.sequences import SequenceBatches

    batches = SequenceBatches(split, "sum", count, batch_size=count, seed=seed, pad_to=MAX_LEN)
    inputs, targets = batches[0]
    predictions = model.predict(inputs, verbose=0)[:, 0]
    fig, axes = plt.subplots(count, MAX_LEN, figsize=(MAX_LEN * 0.9, count * 1.05))
    for row in range(count):
        for slot in range(MAX_LEN):
            ax = axes[row, slot]
            ax.axis("off")
            if inputs["mask"][row, slot]:
                ax.imshow(inputs["sequence"][row, slot, :, :, 0], cmap="gray")
        ok = round(float(predictions[row])) == targets[row, 0]
        axes[row, 0].set_title(
            f"pred {predictions[row]:.2f}, true {targets[row, 0]:.0f}",
            loc="left",
            fontsize=8,
            color="green" if ok else "red",
        )
    fig.suptitle("Sum task: test sequences, Transformer prediction vs truth")
    return _save(fig, folder, name)


def plot_attention(model, split, folder, name, count=6, seed=TEST_SEED):
    """Anchor and sequence with the cross-attention weight of each image drawn under it.

    Shows `count` fixed test examples, half with the anchor's digit present.
    The weights come from the trained model itself (`attention_weights_model`).
    """
    from matplotlib.patches import Rectangle

    from mnist_vit.anchor_models import attention_weights_model
    from mnist_vit.sequences import SequenceBatches

    batches = SequenceBatches(split, "anchor", 10 * count, batch_size=10 * count, seed=seed, pad_to=MAX_LEN)
    inputs, targets = batches[0]
    positives = np.flatnonzero(targets[:, 0] == 1)[: count // 2]
    negatives = np.flatnonzero(targets[:, 0] == 0)[: count - len(positives)]
    rows = np.sort(np.concatenate([positives, negatives]))
    inputs = {key: value[rows] for key, value in inputs.items()}
    targets = targets[rows]
    probabilities = model.predict(inputs, verbose=0)[:, 0]
    weights = attention_weights_model(model).predict(inputs, verbose=0)
    fig, axes = plt.subplots(len(rows), MAX_LEN + 1, figsize=((MAX_LEN + 1) * 0.95, len(rows) * 1.45))
    for row, row_axes in enumerate(axes):
        for ax in row_axes:
            ax.set_xticks([])
            ax.set_yticks([])
        anchor_ax = row_axes[0]
        anchor_ax.imshow(inputs["anchor"][row, :, :, 0], cmap="gray")
        for spine in anchor_ax.spines.values():
            spine.set_edgecolor("tab:blue")
            spine.set_linewidth(3)
        truth = "present" if targets[row, 0] else "absent"
        anchor_ax.set_xlabel(f"p={probabilities[row]:.2f}\n({truth})", fontsize=8)
        for slot in range(MAX_LEN):
            ax = row_axes[slot + 1]
            if not inputs["mask"][row, slot]:
                ax.axis("off")
                continue
            ax.imshow(inputs["sequence"][row, slot, :, :, 0], cmap="gray")
            ax.add_patch(
                Rectangle(
                    (0, -0.14),
                    weights[row, slot],
                    0.09,
                    transform=ax.transAxes,
                    color="tab:orange",
                    clip_on=False,
                )
            )
            ax.set_xlabel(f"{weights[row, slot]:.2f}", fontsize=8, labelpad=9)
    fig.suptitle(
        "Anchor task (blue frame: anchor): cross-attention weight on each sequence image (orange bar)"
    )
    fig.tight_layout()
    return _save(fig, folder, name)


def write_task_figures(task_name, results, run_root, folder, test_split):
    """Writes the figures of a finished `run_tuner.py` run; returns their paths."""
    import keras

    os.makedirs(folder, exist_ok=True)
    models = results["models"]
    histories = {
        name: read_history(os.path.join(run_root, "final", name, "seed_0", "train", "history.csv"))
        for name in models
    }
    written = []
    metric = "exact_accuracy" if task_name == "sum" else "accuracy"
    written.append(
        plot_histories(
            histories,
            metric,
            f"{task_name} task: training curves (seed 0)",
            folder,
            f"{task_name}_training.png",
        )
    )
    if task_name == "sum":
        curves = {
            name: m["test"].get("exact_accuracy_by_long_length", m["test"]["exact_accuracy_by_length"])
            for name, m in models.items()
        }
        written.append(
            plot_by_length(
                curves,
                "exact accuracy",
                "Sum task: exact accuracy by length (test)",
                folder,
                "sum_by_length.png",
            )
        )
    else:
        curves = {name: m["test"]["accuracy_by_length"] for name, m in models.items()}
        written.append(
            plot_by_length(
                curves, "accuracy", "Anchor task: accuracy by length (test)", folder, "anchor_by_length.png"
            )
        )
    best = keras.saving.load_model(
        os.path.join(run_root, "final", "transformer", "seed_0", "train", "best.keras")
    )
    if task_name == "sum":
        written.append(plot_sum_examples(best, test_split, folder, "sum_examples.png"))
    else:
        written.append(plot_attention(best, test_split, folder, "anchor_attention.png"))
    return written
