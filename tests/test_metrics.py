import itertools
import math

import numpy as np
import pytest

from mnist_vit.metrics import average_ranks, rank_correlation, roc_auc


def test_tied_values_share_their_average_rank():
    assert average_ranks([3.0, 1.0, 3.0, 2.0]).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_roc_auc_is_the_fraction_of_positive_negative_pairs_in_order():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 40).astype(float)  # many ties
    labels = rng.random(40) < 0.4
    pairs = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for p, n in itertools.product(scores[labels], scores[~labels])
    ]
    assert roc_auc(scores, labels) == pytest.approx(np.mean(pairs))
    assert roc_auc(scores, np.ones(40)) is None


def test_rank_correlation_is_spearmans():
    assert rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert rank_correlation([1, 2, 3, 4], [0.4, 0.3, 0.2, 0.1]) == pytest.approx(-1.0)
    # No ties: 1 - 6 * sum(d^2) / (n (n^2 - 1)), here d = (0, 1, -1, 0).
    assert rank_correlation([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(1 - 6 * 2 / (4 * 15))
    # Ties: x ranks (1.5, 1.5, 3), the Pearson correlation of the ranks.
    assert rank_correlation([5, 5, 7], [1, 2, 3]) == pytest.approx(1.5 / math.sqrt(1.5 * 2))
    assert rank_correlation([1, 1, 1], [1, 2, 3]) is None
    with pytest.raises(ValueError, match="one length"):
        rank_correlation([1, 2], [1, 2, 3])
