"""Test-time metrics of the sum and anchor tasks, computed from predictions.

These are the numbers the results files report. They are computed with NumPy
on the predictions of `model.predict`, so they are identical whatever backend
made the predictions.
"""

import numpy as np


def sum_metrics(predictions, targets, lengths):
    """Metrics of the sum task.

    Args:
        predictions: float `(n,)` or `(n, 1)`, predicted sums.
        targets: float `(n,)`, true sums.
        lengths: int `(n,)`, sequence lengths.

    Returns:
        dict with `exact_accuracy` (round(prediction) == sum), `mse`, `mae`
        and `exact_accuracy_by_length` (`{length: accuracy}`).
    """
    predictions = np.asarray(predictions, dtype="float64").reshape(-1)
    targets = np.asarray(targets, dtype="float64")
    exact = np.round(predictions) == targets
    return {
        "exact_accuracy": float(exact.mean()),
        "mse": float(np.mean((predictions - targets) ** 2)),
        "mae": float(np.mean(np.abs(predictions - targets))),
        "exact_accuracy_by_length": _by_length(exact, lengths),
    }


def roc_auc(scores, labels):
    """Area under the ROC curve (ties count half), from ranks."""
    scores = np.asarray(scores, dtype="float64").reshape(-1)
    labels = np.asarray(labels).astype(bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def anchor_metrics(probabilities, labels, lengths):
    """Metrics of the anchor task.

    Args:
        probabilities: float `(n,)` or `(n, 1)`, predicted P(anchor occurs).
        labels: float `(n,)`, 1.0 where the anchor's digit occurs.
        lengths: int `(n,)`, sequence lengths.

    Returns:
        dict with `accuracy` (threshold 0.5), `auc`, `balanced_accuracy`,
        `loss` (binary cross-entropy), `positive_rate` and
        `accuracy_by_length`.
    """
    p = np.clip(np.asarray(probabilities, dtype="float64").reshape(-1), 1e-7, 1 - 1e-7)
    labels = np.asarray(labels).astype(bool)
    predicted = p >= 0.5
    correct = predicted == labels
    recalls = [correct[labels].mean(), correct[~labels].mean()]
    return {
        "accuracy": float(correct.mean()),
        "auc": roc_auc(p, labels),
        "balanced_accuracy": float(np.mean(recalls)),
        "loss": float(-np.mean(np.where(labels, np.log(p), np.log(1 - p)))),
        "positive_rate": float(labels.mean()),
        "accuracy_by_length": _by_length(correct, lengths),
    }


def _by_length(correct, lengths):
    lengths = np.asarray(lengths)
    return {str(length): float(correct[lengths == length].mean()) for length in np.unique(lengths)}
