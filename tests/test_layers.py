"""Every custom layer through the shared check (`layer_checks.check_layer`)."""

import numpy as np
import pytest
from layer_checks import check_layer

from mnist_vit.augmentation import DigitAugmentation
from mnist_vit.cross_attention import AnchorCrossAttention
from mnist_vit.digit_head import DigitValue, MostLikelySum
from mnist_vit.encoder import GlobalBatchNormalization
from mnist_vit.slots import ClearPaddedSlots, FlattenSlots, FoldSlots, MaskedSum, UnfoldSlots
from mnist_vit.transformer_block import TransformerEncoderBlock

RNG = np.random.default_rng(0)
MASK = np.arange(5)[None, :] < np.array([[2], [5], [1]])  # (3, 5): lengths 2, 5, 1
SLOTS = RNG.normal(size=(3, 5, 8)).astype("float32")
IMAGES = RNG.uniform(0, 1, (3, 28, 28, 1)).astype("float32")


LOGITS = RNG.normal(size=(3, 5, 10)).astype("float32")


def real_slots(outputs):
    """The first output on the real slots only (a block's outputs on padding are meaningless)."""
    return outputs[0][MASK]


def attended_and_match(outputs):
    """Cross-attention's output for the anchor and its match scores, side by side."""
    return np.concatenate([outputs[0], outputs[2]], axis=1)


CASES = {
    "DigitAugmentation": lambda: (DigitAugmentation(seed=1), [IMAGES], [(3, 28, 28, 1)], {}),
    "FoldSlots": lambda: (FoldSlots(), [SLOTS], [(15, 8)], {}),
    "UnfoldSlots": lambda: (UnfoldSlots(), [SLOTS.reshape(15, 8), SLOTS], [(3, 5, 8)], {}),
    "FlattenSlots": lambda: (FlattenSlots(5), [SLOTS], [(3, 40)], {}),
    "ClearPaddedSlots": lambda: (ClearPaddedSlots(), [SLOTS, MASK], [(3, 5, 8)], {"mask_index": 1}),
    "MaskedSum": lambda: (MaskedSum(), [SLOTS, MASK], [(3, 8)], {"mask_index": 1}),
    "DigitValue": lambda: (DigitValue(), [LOGITS], [(3, 5, 1)], {}),
    "GlobalBatchNormalization": lambda: (GlobalBatchNormalization(), [IMAGES], [(3, 28, 28, 1)], {}),
    "MostLikelySum": lambda: (
        MostLikelySum(),
        [LOGITS, np.full((3, 1), 9.0, "float32"), MASK],
        [(3, 1)],
        {"mask_index": 2, "slots_index": 0},
    ),
    "TransformerEncoderBlock": lambda: (
        TransformerEncoderBlock(num_heads=2, ff_dim=16),
        [SLOTS, MASK],
        [(3, 5, 8)],
        {"mask_index": 1, "masked_output": real_slots},
    ),
    "AnchorCrossAttention": lambda: (
        AnchorCrossAttention(num_heads=2),
        [SLOTS[:, 0], SLOTS, MASK],
        [(3, 8), (3, 5), (3, 2)],
        {
            "mask_index": 2,
            "masked_output": lambda outputs: np.concatenate(
                [np.asarray(o) for o in (outputs[0], outputs[2])], axis=1
            ),
        },
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer(name):
    layer, args, shapes, options = CASES[name]()
    check_layer(layer, args, shapes, **options)
