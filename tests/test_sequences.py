import dataclasses

import numpy as np
import pytest

from mnist_vit.sequences import SequenceBatches, sample_sequences
from mnist_vit.tasks import get_task

SUM, ANCHOR = get_task("sum"), get_task("anchor")


@pytest.mark.parametrize("task", ["sum", "anchor"])
def test_lengths_masks_and_targets(tiny_split, task):
    s = sample_sequences(tiny_split.labels, 500, get_task(task), lengths=(1, 10), seed=3)
    assert s.lengths.min() >= 1 and s.lengths.max() <= 10
    assert set(np.unique(s.lengths)) == set(range(1, 11))
    for row in range(len(s)):
        n = s.lengths[row]
        assert s.mask[row, :n].all() and not s.mask[row, n:].any()
        assert (s.indices[row, n:] == -1).all()
        digits = tiny_split.labels[s.indices[row, :n]]
        if task == "sum":
            assert s.targets[row] == digits.sum()
        else:
            assert s.targets[row] == float(tiny_split.labels[s.anchors[row]] in digits)


def test_a_task_sees_its_digits_with_minus_one_on_padding(tiny_split):
    seen = {}

    def record(digits, mask, anchor_digits):
        seen.update(digits=digits, mask=mask)
        return SUM.targets(digits, mask, anchor_digits)

    labels = tiny_split.labels.astype(np.uint8)  # MNIST's own dtype
    s = sample_sequences(labels, 200, dataclasses.replace(SUM, targets=record), seed=0)
    digits, mask = seen["digits"], seen["mask"]
    assert (digits[~mask] == -1).all()
    assert (digits[mask] == labels[s.indices[mask]]).all()


def test_anchor_positive_rate_matches_theory(tiny_split):
    s = sample_sequences(tiny_split.labels, 20000, ANCHOR, seed=0)
    expected = 1 - np.mean(
        [
            np.mean([(1 - np.mean(tiny_split.labels == d)) ** n for d in tiny_split.labels])
            for n in range(1, 11)
        ]
    )
    assert abs(s.targets.mean() - expected) < 0.02


def test_anchor_absent_half_keeps_the_anchor_digit_out_of_every_other_long_sequence(tiny_split):
    labels = tiny_split.labels
    natural = sample_sequences(labels, 400, ANCHOR, lengths=(60, 60), seed=5)
    assert natural.targets.mean() > 0.97  # why the long-length test needs it
    s = sample_sequences(labels, 400, ANCHOR, lengths=(60, 60), seed=5, anchor_absent_half=True)
    digits = labels[s.indices]
    anchor_digits = labels[s.anchors]
    assert not (digits[1::2] == anchor_digits[1::2, None]).any()
    assert (s.targets[1::2] == 0).all() and s.targets[0::2].mean() > 0.97
    np.testing.assert_array_equal(s.indices[0::2], natural.indices[0::2])  # the other rows as drawn
    np.testing.assert_array_equal(s.anchors, natural.anchors)
    for row in range(len(s)):  # the targets are still the task's, from the redrawn digits
        assert s.targets[row] == float(anchor_digits[row] in digits[row])
    with pytest.raises(ValueError, match="needs a task with an anchor"):
        sample_sequences(labels, 10, SUM, anchor_absent_half=True)


def test_fixed_seed_is_reproducible_and_seeds_differ(tiny_split):
    a = sample_sequences(tiny_split.labels, 100, ANCHOR, seed=7)
    b = sample_sequences(tiny_split.labels, 100, ANCHOR, seed=7)
    c = sample_sequences(tiny_split.labels, 100, ANCHOR, seed=8)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.anchors, b.anchors)
    assert not np.array_equal(a.indices, c.indices)


def test_bad_lengths_rejected(tiny_split):
    with pytest.raises(ValueError, match="low <= high"):
        sample_sequences(tiny_split.labels, 10, SUM, lengths=(0, 10))
    with pytest.raises(ValueError, match="Unknown task 'product'"):
        get_task("product")


def test_batches_gather_the_right_images(tiny_split):
    batches = SequenceBatches(tiny_split, ANCHOR, 50, batch_size=8, seed=1)
    served = 0
    for b in range(len(batches)):
        inputs, targets = batches[b]
        rows = batches.batch_rows(b)
        seqs = batches.sequences
        slots = inputs["sequence"].shape[1]
        # Batches are padded only to their own longest sequence.
        assert slots == seqs.lengths[rows].max()
        for i, row in enumerate(rows):
            n = seqs.lengths[row]
            np.testing.assert_array_equal(
                inputs["sequence"][i, :n, :, :, 0], tiny_split.images[seqs.indices[row, :n]]
            )
            assert not inputs["sequence"][i, n:].any()
            np.testing.assert_array_equal(inputs["anchor"][i, :, :, 0], tiny_split.images[seqs.anchors[row]])
        assert inputs["mask"].dtype == bool and inputs["sequence"].dtype == np.float32
        np.testing.assert_array_equal(targets[:, 0], seqs.targets[rows])
        served += len(rows)
    assert served == 50
    np.testing.assert_array_equal(np.sort(batches.served_rows()), np.arange(50))


@pytest.mark.parametrize("fresh", [False, True])
def test_first_two_batches_show_the_slot_axis_varies(tiny_split, fresh):
    batches = SequenceBatches(tiny_split, SUM, 100, batch_size=8, fresh=fresh)
    for _ in range(3):
        slots = [batches[i][0]["mask"].shape[1] for i in range(len(batches))]
        assert slots[0] == max(slots) and slots[1] == min(slots) < max(slots)
        batches.on_epoch_end()


def test_pad_to_gives_fixed_slots(tiny_split):
    batches = SequenceBatches(tiny_split, SUM, 20, batch_size=8, pad_to=10)
    assert {batches[b][0]["mask"].shape[1] for b in range(len(batches))} == {10}


def test_fresh_sequences_each_epoch_and_fixed_otherwise(tiny_split):
    fresh = SequenceBatches(tiny_split, SUM, 40, batch_size=8, fresh=True)
    fixed = SequenceBatches(tiny_split, SUM, 40, batch_size=8)
    before_fresh, before_fixed = fresh.sequences.indices.copy(), fixed.sequences.indices.copy()
    fresh.on_epoch_end()
    fixed.on_epoch_end()
    assert not np.array_equal(before_fresh, fresh.sequences.indices)
    np.testing.assert_array_equal(before_fixed, fixed.sequences.indices)


def rows_of(sequences):
    """Each sequence as a hashable row: its image indices and its target."""
    return [(*row, target) for row, target in zip(sequences.indices.tolist(), sequences.targets, strict=True)]


def test_a_pool_serves_only_its_sequences_each_equally_often_in_new_orders(tiny_split):
    pool = SequenceBatches(tiny_split, SUM, 40, batch_size=8, fresh=True, pool=15, seed=3)
    served, orders = [], []
    for _ in range(3):
        counts = np.unique(np.array(rows_of(pool.sequences)), axis=0, return_counts=True)[1]
        assert len(counts) == 15 and set(counts) == {2, 3}  # 40 served: 10 thrice, 5 twice
        served += rows_of(pool.sequences)
        orders.append(pool.sequences.indices.copy())
        pool.on_epoch_end()
    assert len(set(served)) == 15
    assert not np.array_equal(orders[0], orders[1])
    again = SequenceBatches(tiny_split, SUM, 40, batch_size=8, fresh=True, pool=15, seed=3)
    np.testing.assert_array_equal(again.sequences.indices, orders[0])
    other_seed = SequenceBatches(tiny_split, SUM, 40, batch_size=8, fresh=True, pool=15, seed=4)
    assert set(rows_of(other_seed.sequences)).isdisjoint(served)


def test_a_pool_larger_than_an_epoch_still_serves_no_sequence_twice_in_one(tiny_split):
    pool = SequenceBatches(tiny_split, SUM, 10, batch_size=4, fresh=True, pool=25)
    assert len(set(rows_of(pool.sequences))) == 10


@pytest.mark.parametrize("options", [dict(pool=5), dict(pool=0, fresh=True)])
def test_a_pool_needs_fresh_epochs_and_a_positive_size(tiny_split, options):
    with pytest.raises(ValueError, match="a pool of sequences needs fresh=True and pool >= 1"):
        SequenceBatches(tiny_split, SUM, 10, batch_size=4, **options)


def test_no_image_crosses_splits(mnist_path):
    from mnist_vit.data import load_splits

    splits = load_splits(mnist_path)
    batches = SequenceBatches(splits["validation"], SUM, 64, batch_size=64, seed=1)
    inputs, _ = batches[0]
    # Every served image is an image of the validation split, by index.
    idx = batches.sequences.indices[batches.batch_rows(0)]
    assert idx.max() < len(splits["validation"])
    real = inputs["sequence"][inputs["mask"]][..., 0]
    np.testing.assert_array_equal(real, splits["validation"].images[idx[idx >= 0]])


def test_padding_fraction_counts_padded_slots(tiny_split):
    padded = SequenceBatches(tiny_split, SUM, 100, batch_size=10, seed=0, pad_to=10)
    lengths = padded.sequences.lengths
    assert padded.padding_fraction() == pytest.approx(1 - lengths.sum() / (100 * 10))
    bucketed = SequenceBatches(tiny_split, SUM, 100, batch_size=10, seed=0)
    assert 0 <= bucketed.padding_fraction() < padded.padding_fraction()
