"""Tiny model settings and inputs shared by the model tests."""

import numpy as np

TINY_ENCODER = dict(embed_dim=16, filters=(4, 8), kernel_size=3, augment=False)
TINY = dict(TINY_ENCODER, head_units=16)
TINY_ATTENTION = dict(TINY, num_heads=2, ff_dim=32, num_blocks=1)
TINY_CROSS_ATTENTION = dict(TINY_ENCODER, num_heads=2, ff_dim=32, num_blocks=1)


def random_inputs(lengths, slots=10, anchor=False, seed=0):
    """Inputs with random images on real slots and zeros on padding."""
    rng = np.random.default_rng(seed)
    lengths = np.asarray(lengths)
    mask = np.arange(slots)[None, :] < lengths[:, None]
    sequence = rng.uniform(0, 255, (len(lengths), slots, 28, 28, 1)).astype("float32")
    sequence *= mask[:, :, None, None, None]
    inputs = {"sequence": sequence, "mask": mask}
    if anchor:
        inputs["anchor"] = rng.uniform(0, 255, (len(lengths), 28, 28, 1)).astype("float32")
    return inputs


def with_noisy_padding(inputs, seed=1):
    """The same inputs with random images in every padded slot."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, inputs["sequence"].shape).astype("float32")
    padded = ~inputs["mask"][:, :, None, None, None]
    return {**inputs, "sequence": np.where(padded, noise, inputs["sequence"])}


def with_extra_slots(inputs, extra=5, seed=2):
    """The same inputs with `extra` padded slots (holding random images) appended."""
    rng = np.random.default_rng(seed)
    batch = len(inputs["mask"])
    noise = rng.uniform(0, 255, (batch, extra, 28, 28, 1)).astype("float32")
    return {
        **inputs,
        "sequence": np.concatenate([inputs["sequence"], noise], axis=1),
        "mask": np.concatenate([inputs["mask"], np.zeros((batch, extra), bool)], axis=1),
    }
