"""The ascents task: given 1-10 digit images in order, how often is a digit larger than the one before it?

Every model takes the same inputs and gives the same output:
    inputs["sequence"]: float32 `(batch, slots, 28, 28, 1)`, raw pixels 0..255.
    inputs["mask"]: bool `(batch, slots)`, true on real slots.
    output: float32 `(batch, 1)`, the predicted count, 0..9 (`mnist_vit.counting`).

An order task: the answer changes when the images are reordered, so the
attention model and the Deep Sets baseline get a learned position embedding
(`positions`), and take at most `MAX_LEN` images; the fully-connected
baseline sees order through its layout. Models learn from the count only,
never from digit labels.

The Transformer reads each slot as a distribution over ten digit classes
(the sum task's digit head, after its blocks) and each slot attends back to
an earlier slot it learns to choose, counting the chance that its digit is
larger (`look_back.LookBackAscents`). Deep Sets can only pool: an MLP reads
the sum of its position-tagged slots (`heads.pooled_count`).
"""

from mnist_vit.counting import COUNT_TRAINING, LABELS, count_models, count_presentation, count_presets
from mnist_vit.digit_head import slot_digits
from mnist_vit.look_back import LookBackAscents
from mnist_vit.presentation import register_presentation
from mnist_vit.sequences import MAX_LEN
from mnist_vit.tasks import Task, register_task

NAME = "ascents"
# P(next digit > digit) for independent uniform digits: 45 of the 100 pairs.
ASCENT_CHANCE = 0.45
# The mean count over lengths uniform on 1..MAX_LEN: a length-n sequence has n - 1 adjacent pairs.
MEAN_ASCENTS = ASCENT_CHANCE * (MAX_LEN - 1) / 2


def ascents(digits, mask, anchor_digits=None):
    """Targets: how many real slots hold a larger digit than the slot before, float32 `(n,)`.

    Real slots are a prefix of each row, so a pair counts when its second
    slot is real (see `Task.targets`).
    """
    return ((digits[:, 1:] > digits[:, :-1]) & mask[:, 1:]).sum(axis=1).astype("float32")


def look_back_count(slots, mask, head):
    """Each real slot's digit distribution (`slot_digits`), then the expected ascents (`LookBackAscents`).

    `(batch, slots, dim)` -> `(batch, 1)`; uses `head.head_units` and `head.dropout`.
    """
    return LookBackAscents(MAX_LEN, name="expected_ascents")(
        slot_digits(slots, head.head_units, head.dropout), mask
    )


def describe_prediction(value, count):
    """The command line's answer."""
    return f"ascents: {round(value)} (model output {value:.3f}) in {count} images"


ASCENTS = register_task(
    Task(
        name=NAME,
        has_anchor=False,
        targets=ascents,
        models=count_models(NAME, MEAN_ASCENTS, attention_head=look_back_count, positions=True),
        **COUNT_TRAINING,
        num_blocks=(1, 2),
        presets=count_presets(),
    )
)

register_presentation(
    NAME,
    count_presentation(
        "Ascents task: test sequences, Transformer count vs truth",
        describe_prediction,
        labels={**LABELS, "transformer": "Transformer + positions", "deepsets": "Deep Sets + positions"},
    ),
)
