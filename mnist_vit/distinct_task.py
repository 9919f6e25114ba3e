"""The distinct task: given 1-10 digit images, how many different digits are among them (1..10)?

Every model takes the same inputs and gives the same output:
    inputs["sequence"]: float32 `(batch, slots, 28, 28, 1)`, raw pixels 0..255.
    inputs["mask"]: bool `(batch, slots)`, true on real slots.
    output: float32 `(batch, 1)`, the predicted count (`mnist_vit.counting`).

A set task: the answer does not depend on the images' order, and the digit
histogram decides it, so a Deep Sets model whose pooled features can hold
that histogram can in principle answer as well as attention. Models learn
from the count only, never from digit labels.

The Transformer and Deep Sets read each slot as a distribution over ten
digit classes (the sum task's digit head) and answer the expected number of
classes present (`digit_head.DigitPresence`); they differ only in the
self-attention blocks.
"""

import numpy as np

from mnist_vit.counting import COUNT_TRAINING, count_models, count_presentation, count_presets
from mnist_vit.digit_head import expected_distinct, slot_digits
from mnist_vit.presentation import register_presentation
from mnist_vit.sequences import MAX_LEN
from mnist_vit.tasks import Task, register_task

NAME = "distinct"
DIGITS = 10
# The mean count over lengths uniform on 1..MAX_LEN: n images hold 10 (1 - 0.9^n) different digits on average.
MEAN_DISTINCT = float(np.mean([DIGITS * (1 - 0.9**n) for n in range(1, MAX_LEN + 1)]))


def distinct_digits(digits, mask, anchor_digits=None):
    """Targets: how many different digits the real slots hold, float32 `(n,)` (see `Task.targets`)."""
    present = ((digits[:, :, None] == np.arange(DIGITS)) & mask[:, :, None]).any(axis=1)
    return present.sum(axis=1).astype("float32")


def presence_count(slots, mask, head):
    """Each real slot's digit distribution (`slot_digits`), then the expected number of digits present.

    `(batch, slots, dim)` -> `(batch, 1)`; uses `head.head_units` and `head.dropout`.
    """
    return expected_distinct(slot_digits(slots, head.head_units, head.dropout), mask)


def describe_prediction(value, count):
    """The command line's answer."""
    return f"distinct digits: {round(value)} (model output {value:.3f}) among {count} images"


DISTINCT = register_task(
    Task(
        name=NAME,
        has_anchor=False,
        targets=distinct_digits,
        models=count_models(NAME, MEAN_DISTINCT, attention_head=presence_count, pooling_head=presence_count),
        **COUNT_TRAINING,
        long_lengths=True,
        num_blocks=(1, 2),
        presets=count_presets(),
    )
)

register_presentation(
    NAME, count_presentation("Distinct task: test sequences, Transformer count vs truth", describe_prediction)
)
