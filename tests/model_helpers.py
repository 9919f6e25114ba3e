"""Tiny model settings, models and inputs shared by the model tests (defined once)."""

import numpy as np

from mnist_vit.encoder import EncoderConfig
from mnist_vit.hyperparameters import HeadConfig, Hyperparameters, TrainingConfig
from mnist_vit.tasks import get_task
from mnist_vit.training import build_model

TINY_ENCODER = EncoderConfig(embed_dim=16, filters=(4, 8), kernel_size=3, encoder_dropout=0.1, augment=False)
TINY_HEAD = HeadConfig(num_blocks=1, num_heads=2, ff_dim=32, dropout=0.1, head_units=16)
TINY = Hyperparameters(
    TINY_ENCODER, TINY_HEAD, TrainingConfig(learning_rate=5e-3, weight_decay=1e-4, batch_size=32)
)


def tiny_hyperparameters(**changes):
    """`TINY` with some fields changed, by their flat names (e.g. `augment=True`, `num_blocks=0`)."""
    return Hyperparameters.from_dict({**TINY.to_dict(), **changes})


def tiny_model(task_name, model_name, **changes):
    """A tiny untrained model of a registered task (`tiny_hyperparameters(**changes)`)."""
    return build_model(get_task(task_name), model_name, tiny_hyperparameters(**changes))


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


# A fully-connected model given 12 slots: Keras's own check on jax and torch; TensorFlow traces the slot axis
# as unknown and fails in its Pad op.
TOO_MANY_SLOTS = "at most 10 slots, got 12|[Pp]addings must be non-negative"
