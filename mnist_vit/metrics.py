"""Test-time metric helpers shared by the tasks (NumPy, on `model.predict`'s output).

Computed with NumPy on predictions, the results files' numbers are identical
whatever backend made the predictions.
"""

import numpy as np


def roc_auc(scores, labels):
    """Area under the ROC curve (ties count half), from ranks; None when one class is absent."""
    scores = np.asarray(scores, dtype="float64").reshape(-1)
    labels = np.asarray(labels).astype(bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def by_length(correct, lengths):
    """`{str(length): fraction correct}` for every length present.

    Args:
        correct: bool `(n,)`.
        lengths: int `(n,)`.
    """
    lengths = np.asarray(lengths)
    return {str(length): float(correct[lengths == length].mean()) for length in np.unique(lengths)}
