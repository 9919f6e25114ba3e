"""Test-time metric helpers shared by the tasks (NumPy, on `model.predict`'s output).

Computed with NumPy on predictions, the results files' numbers are identical
whatever backend made the predictions.
"""

import numpy as np


def average_ranks(values):
    """Ranks 1..n of `values` (float64), ties sharing their average rank."""
    values = np.asarray(values, dtype="float64").reshape(-1)
    order = np.argsort(values, kind="stable")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return ranks


def roc_auc(scores, labels):
    """Area under the ROC curve (ties count half), from ranks; None when one class is absent."""
    labels = np.asarray(labels).astype(bool).reshape(-1)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return None
    ranks = average_ranks(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def rank_correlation(x, y):
    """Spearman's rank correlation of two equally long sequences (ties share ranks).

    None when one of them is constant.
    """
    rx, ry = average_ranks(x), average_ranks(y)
    if len(rx) != len(ry):
        raise ValueError(f"rank_correlation needs sequences of one length, got {len(rx)} and {len(ry)}")
    rx, ry = rx - rx.mean(), ry - ry.mean()
    scale = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / scale) if scale > 0 else None


def by_length(correct, lengths):
    """`{str(length): fraction correct}` for every length present.

    Args:
        correct: bool `(n,)`.
        lengths: int `(n,)`.
    """
    lengths = np.asarray(lengths)
    return {str(length): float(correct[lengths == length].mean()) for length in np.unique(lengths)}
