"""Figures written by the experiments (matplotlib, no screen needed)."""

import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mnist_vit.sequences import MAX_LEN, TEST_SEED  # noqa: E402

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
    for (model_name, history), color in zip(histories.items(), plt.cm.tab10.colors):
        epochs = history["epoch"] + 1
        label = MODEL_LABELS.get(model_name, model_name)
        for ax, key in zip(axes, ("loss", metric)):
            ax.plot(epochs, history[key], "--", color=color, alpha=0.7, label=f"{label} train")
            ax.plot(epochs, history[f"val_{key}"], "-", color=color, label=f"{label} validation")
    axes[0].set_yscale("log")
    for ax, key in zip(axes, ("loss", metric)):
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
        ax.plot(lengths, [by_length[str(n)] for n in lengths], "o-", ms=3,
                label=MODEL_LABELS.get(model_name, model_name))
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
            loc="left", fontsize=8, color="green" if ok else "red",
        )
    fig.suptitle("Sum task: test sequences, Transformer prediction vs truth")
    return _save(fig, folder, name)


def plot_attention(model, split, folder, name, count=6, seed=TEST_SEED):
    """Anchor and sequence with the cross-attention weight of each image drawn under it."""
    from mnist_vit.anchor_models import attention_weights_model
    from mnist_vit.sequences import SequenceBatches

    batches = SequenceBatches(split, "anchor", count, batch_size=count, seed=seed, pad_to=MAX_LEN)
    inputs, targets = batches[0]
    probabilities = model.predict(inputs, verbose=0)[:, 0]
    weights = attention_weights_model(model).predict(inputs, verbose=0)
    fig, axes = plt.subplots(2 * count, MAX_LEN + 1, figsize=((MAX_LEN + 1) * 0.9, count * 1.6),
                             gridspec_kw={"height_ratios": [3, 1] * count})
    for row in range(count):
        image_axes, bar_axes = axes[2 * row], axes[2 * row + 1]
        image_axes[0].imshow(inputs["anchor"][row, :, :, 0], cmap="gray")
        image_axes[0].set_title(
            f"anchor: p={probabilities[row]:.2f}, truth {'in' if targets[row, 0] else 'not in'}",
            loc="left", fontsize=8,
        )
        for slot in range(MAX_LEN + 1):
            image_axes[slot].set_xticks([])
            image_axes[slot].set_yticks([])
            bar_axes[slot].axis("off")
        for slot in range(MAX_LEN):
            if inputs["mask"][row, slot]:
                image_axes[slot + 1].imshow(inputs["sequence"][row, slot, :, :, 0], cmap="gray")
                bar_axes[slot + 1].barh([0], [weights[row, slot]], color="tab:orange")
                bar_axes[slot + 1].set_xlim(0, 1)
                bar_axes[slot + 1].text(0.5, -1.2, f"{weights[row, slot]:.2f}", ha="center", fontsize=7,
                                        transform=bar_axes[slot + 1].transData)
            else:
                image_axes[slot + 1].axis("off")
    fig.suptitle("Anchor task: cross-attention weight of the anchor on each sequence image")
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
    written.append(plot_histories(histories, metric, f"{task_name} task: training curves (seed 0)",
                                  folder, f"{task_name}_training.png"))
    if task_name == "sum":
        curves = {name: m["test"].get("exact_accuracy_by_long_length", m["test"]["exact_accuracy_by_length"])
                  for name, m in models.items()}
        written.append(plot_by_length(curves, "exact accuracy", "Sum task: exact accuracy by length (test)",
                                      folder, "sum_by_length.png"))
    else:
        curves = {name: m["test"]["accuracy_by_length"] for name, m in models.items()}
        written.append(plot_by_length(curves, "accuracy", "Anchor task: accuracy by length (test)",
                                      folder, "anchor_by_length.png"))
    best = keras.saving.load_model(os.path.join(run_root, "final", "transformer", "seed_0", "train", "best.keras"))
    if task_name == "sum":
        written.append(plot_sum_examples(best, test_split, folder, "sum_examples.png"))
    else:
        written.append(plot_attention(best, test_split, folder, "anchor_attention.png"))
    return written
