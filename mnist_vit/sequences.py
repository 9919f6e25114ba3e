"""Sequences of MNIST images, and the batches that feed them to a model.

A sequence is a row of indices into one split's images, with a target that
the task computes from the digits (`Task.targets`) and, for tasks with an
anchor, an anchor image. Every sequence set is drawn from a seeded NumPy
generator, so the same seed gives the same sequences on every backend, run
and machine. Images are gathered per batch by index, so memory does not grow
with the number of sequences or epochs.
"""

import dataclasses

import keras
import numpy as np

from mnist_vit.data_parallel import mask_dtype
from mnist_vit.hyperparameters import TrainingConfig
from mnist_vit.slots import ANCHOR_INPUT

MAX_LEN = 10
VALIDATION_SEED = 1
TEST_SEED = 2
EVALUATION_BATCH_SIZE = 256  # batches of the fixed validation and test sequences


@dataclasses.dataclass(frozen=True)
class SequenceSet:
    """A set of sequences, as indices into one split.

    Attributes:
        indices: int64 `(n, slots)`, image indices; -1 on padded slots.
        mask: bool `(n, slots)`, true on real slots (a prefix of each row).
        targets: float32 `(n,)`, the task's target of each sequence.
        anchors: int64 `(n,)` anchor image indices (tasks with an anchor), else None.
    """

    indices: np.ndarray
    mask: np.ndarray
    targets: np.ndarray
    anchors: np.ndarray | None = None

    @property
    def lengths(self):
        return self.mask.sum(axis=1)

    def __len__(self):
        return len(self.targets)

    def take(self, rows):
        """The sequences at `rows` (int `(k,)`, repeats allowed), as a `SequenceSet`."""
        anchors = None if self.anchors is None else self.anchors[rows]
        return SequenceSet(self.indices[rows], self.mask[rows], self.targets[rows], anchors)


def pool_rows(pool, num_sequences, seed):
    """`num_sequences` rows of a pool of `pool` sequences, each served equally often (within one).

    Returns int `(num_sequences,)`: shuffled passes over `0..pool-1`, as many
    as needed, the last one cut short; the order comes from `seed`.
    """
    rng = np.random.default_rng(seed)
    passes = -(-num_sequences // pool)
    return np.concatenate([rng.permutation(pool) for _ in range(passes)])[:num_sequences]


def sample_sequences(
    labels, num_sequences, task, lengths=(1, MAX_LEN), slots=None, seed=0, anchor_absent_half=False
):
    """Draws a sequence set from a split's labels.

    Args:
        labels: int array `(N,)`, the split's digit labels.
        num_sequences: int. How many sequences to draw.
        task: `Task`. Gives the targets and whether there is an anchor.
        lengths: `(low, high)`. Lengths are uniform on low..high inclusive.
        slots: int. Slots per row (>= high). Defaults to `high`.
        seed: int or sequence of ints for `numpy.random.default_rng`.
        anchor_absent_half: bool (tasks with an anchor). Rows 1, 3, 5, ...
            draw their images from those of the nine digits other than
            their anchor's, so the anchor's digit is absent from every
            other sequence at any length (a uniform draw of 50 images
            holds every digit almost always). Rows 0, 2, ... are drawn as
            without it, from the same seed.

    Returns:
        A `SequenceSet`. Images are drawn uniformly with replacement.
    """
    low, high = lengths
    slots = high if slots is None else slots
    if not 1 <= low <= high <= slots:
        raise ValueError(f"Need 1 <= low <= high <= slots, got lengths={lengths}, slots={slots}")
    if num_sequences < 1:
        raise ValueError(f"num_sequences must be positive, got {num_sequences}")
    labels = np.asarray(labels).astype(np.int64)  # MNIST's are uint8, which cannot hold the padding's -1
    rng = np.random.default_rng(seed)
    length = rng.integers(low, high + 1, size=num_sequences)
    mask = np.arange(slots)[None, :] < length[:, None]
    indices = rng.integers(0, len(labels), size=(num_sequences, slots))
    anchors = rng.integers(0, len(labels), size=num_sequences) if task.has_anchor else None
    if anchor_absent_half:
        if anchors is None:
            raise ValueError(f"anchor_absent_half needs a task with an anchor, not {task.name!r}")
        indices = without_anchor_digit(labels, indices, anchors, np.arange(1, num_sequences, 2), rng)
    indices = np.where(mask, indices, -1)
    digits = np.where(mask, labels[np.maximum(indices, 0)], -1)
    targets = task.targets(digits, mask, None if anchors is None else labels[anchors])
    return SequenceSet(indices, mask, np.asarray(targets, dtype="float32"), anchors)


def without_anchor_digit(labels, indices, anchors, rows, rng):
    """`indices` with `rows` redrawn from the images of the digits other than each row's anchor's.

    Args:
        labels: int64 `(N,)`, the split's digit labels.
        indices: int64 `(n, slots)`, image indices.
        anchors: int64 `(n,)`, anchor image indices.
        rows: int `(k,)`, the rows to redraw (every slot, padded ones too).
        rng: `numpy.random.Generator`.

    Returns:
        A new int64 `(n, slots)` array.
    """
    indices = indices.copy()
    anchor_digits = labels[anchors[rows]]
    for digit in np.unique(anchor_digits):
        redrawn = rows[anchor_digits == digit]
        others = np.flatnonzero(labels != digit)
        indices[redrawn] = others[rng.integers(0, len(others), size=(len(redrawn), indices.shape[1]))]
    return indices


class SequenceBatches(keras.utils.PyDataset):
    """Batches of sequences for `model.fit`, `evaluate` and `predict`.

    Each batch is `(inputs, targets)` with
        inputs["sequence"]: float32 `(batch, slots, 28, 28, 1)`, raw pixels
            0..255, zeros on padded slots;
        inputs["mask"]: bool `(batch, slots)`, true on real slots (float32
            0/1 under a TensorFlow distribution strategy,
            `mnist_vit.data_parallel.mask_dtype`);
        inputs[ANCHOR_INPUT]: float32 `(batch, 28, 28, 1)` (tasks with an anchor);
        targets: float32 `(batch, 1)`.

    With `pad_to=None` the sequences are sorted by length before batching and
    each batch is padded only to its own longest sequence, so the encoder does
    almost no work on padding (sequence models accept any slot count). With an
    int `pad_to`, every batch has exactly that many slots (the fully-connected
    models need `max_len`). `served_rows()` gives, in the order the batches
    serve them, the indices of the sequences in `sequences`, so predictions can
    be matched to targets.

    Keras's TensorFlow data adapter infers the input signature from the first
    two batches, so a batch with the most slots is served first and one with
    the fewest second: the signature then lets the slot axis vary.

    Args:
        split: `Split`. Images and labels to draw from.
        task: `Task`.
        num_sequences: int. Sequences per epoch.
        batch_size: int.
        seed: int. Seed of the sequence set.
        lengths: `(low, high)`, inclusive range of sequence lengths.
        fresh: bool. Draw new sequences each epoch (training), from seed
            `(seed, epoch)`, and serve the batches in a shuffled order.
        pool: None, or int (with `fresh`): draw each epoch's sequences
            from one fixed set of `pool` sequences (seed `seed`), each
            served equally often (`pool_rows`), so that training sees
            `pool` distinct sequences in all. None: every epoch's are new.
        pad_to: None or int, see above.
        anchor_absent_half: bool. See `sample_sequences` (tasks with an
            anchor; for the long-length test).
        workers: int. Threads that prepare batches (Keras's `PyDataset`
            option). Defaults to `2`: with more than one, Keras's TensorFlow
            data adapter also turns off tf.data autotuning, whose
            optimisation thread can hold up the start of an epoch for
            seconds (see `docs/findings.md`).
        **kwargs: passed to `keras.utils.PyDataset`.
    """

    def __init__(
        self,
        split,
        task,
        num_sequences,
        batch_size=TrainingConfig.batch_size,
        seed=0,
        lengths=(1, MAX_LEN),
        fresh=False,
        pool=None,
        pad_to=None,
        anchor_absent_half=False,
        workers=2,
        **kwargs,
    ):
        super().__init__(workers=workers, **kwargs)
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if pool is not None and (not fresh or pool < 1):
            raise ValueError(f"a pool of sequences needs fresh=True and pool >= 1, got pool={pool}")
        if pad_to is not None and pad_to < lengths[1]:
            raise ValueError(f"pad_to={pad_to} is shorter than the longest sequence ({lengths[1]})")
        self.split = split
        self.task = task
        self.num_sequences = num_sequences
        self.batch_size = batch_size
        self.seed = seed
        self.lengths = tuple(lengths)
        self.fresh = fresh
        self.pad_to = pad_to
        self.anchor_absent_half = anchor_absent_half
        self.mask_dtype = mask_dtype()
        self.epoch = 0
        self._pool = None if pool is None else self._sample(pool, seed)
        self._draw()

    def _sample(self, num_sequences, seed):
        return sample_sequences(
            self.split.labels,
            num_sequences,
            self.task,
            lengths=self.lengths,
            slots=self.pad_to,
            seed=seed,
            anchor_absent_half=self.anchor_absent_half,
        )

    def _draw(self):
        if self._pool is not None:
            rows = pool_rows(len(self._pool), self.num_sequences, [self.seed, self.epoch])
            self.sequences = self._pool.take(rows)
        else:
            seed = [self.seed, self.epoch] if self.fresh else self.seed
            self.sequences = self._sample(self.num_sequences, seed)
        if self.pad_to is None:
            self.order = np.argsort(self.sequences.lengths, kind="stable")
        else:
            self.order = np.arange(self.num_sequences)
        batch_order = np.arange(len(self))
        if self.fresh:
            np.random.default_rng([self.seed, self.epoch, 1]).shuffle(batch_order)
        self.batch_order = batch_order
        slots = np.array([self._slots(self.batch_rows(i)) for i in range(len(self))])
        first, second = np.argmax(slots), np.argmin(slots)
        if first != second:
            rest = [i for i in range(len(self)) if i not in (first, second)]
            self.batch_order = batch_order[[first, second, *rest]]

    def _slots(self, rows):
        return self.pad_to or int(self.sequences.lengths[rows].max())

    def __len__(self):
        return -(-self.num_sequences // self.batch_size)

    def batch_rows(self, index):
        """Indices into `sequences` of the sequences in batch `index`."""
        start = self.batch_order[index] * self.batch_size
        return self.order[start : start + self.batch_size]

    def __getitem__(self, index):
        rows = self.batch_rows(index)
        slots = self._slots(rows)
        mask = self.sequences.mask[rows, :slots]
        indices = self.sequences.indices[rows, :slots]
        images = self.split.images[np.maximum(indices, 0)]
        images = np.where(mask[:, :, None, None], images, 0)
        inputs = {
            "sequence": images[..., None].astype("float32"),
            "mask": mask.astype(self.mask_dtype, copy=False),
        }
        if self.task.has_anchor:
            anchors = self.split.images[self.sequences.anchors[rows]]
            inputs[ANCHOR_INPUT] = anchors[..., None].astype("float32")
        return inputs, self.sequences.targets[rows][:, None]

    def served_rows(self):
        """Indices `(n,)` into `sequences`, in the order the batches serve them."""
        return np.concatenate([self.batch_rows(i) for i in range(len(self))])

    def served_targets(self):
        """Targets `(n,)` in the order the batches serve them."""
        return self.sequences.targets[self.served_rows()]

    def served_lengths(self):
        """Lengths `(n,)` in the order the batches serve them."""
        return self.sequences.lengths[self.served_rows()]

    def padding_fraction(self):
        """Fraction of the slots served this epoch that are padding (encoded for nothing)."""
        served = sum(len(self.batch_rows(i)) * self._slots(self.batch_rows(i)) for i in range(len(self)))
        return 1.0 - float(self.sequences.lengths.sum()) / served

    def start_at(self, epoch):
        """Serves epoch `epoch`'s sequences next (0-based): a resumed run trains on the data it would have."""
        if self.fresh and epoch != self.epoch:
            self.epoch = epoch
            self._draw()

    def on_epoch_end(self):
        if self.fresh:
            self.epoch += 1
            self._draw()
