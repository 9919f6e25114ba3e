"""Every hyperparameter of a sequence model, in three groups with their defaults.

A search proposes a flat dict (`{"embed_dim": 64, "num_heads": 2, ...}`);
`Hyperparameters.from_dict` sorts it into the encoder's settings
(`mnist_vit.encoder.EncoderConfig`), the head's (`HeadConfig`: everything
after the encoder) and training's (`TrainingConfig`). A key that none of them
has is an error naming it, never silently dropped. Every model of a task gets
the same `Hyperparameters`; a model uses the head settings that apply to it
(the fully-connected baselines have no attention blocks).
"""

import dataclasses

from mnist_vit.encoder import EncoderConfig


@dataclasses.dataclass(frozen=True)
class HeadConfig:
    """Settings of the part of a model after the image encoder.

    Attributes:
        num_blocks: int. Self-attention blocks before the task's head.
        num_heads: int. Attention heads (must divide `embed_dim`).
        ff_dim: int. Feed-forward hidden units of a block.
        dropout: float. Dropout in the blocks and the head.
        head_units: int. Hidden units of the task's head.
    """

    num_blocks: int = 1
    num_heads: int = 2
    ff_dim: int = 128
    dropout: float = 0.0
    head_units: int = 64


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Optimizer and batch settings (AdamW with warm-up and cosine decay).

    Attributes:
        learning_rate: float. Peak learning rate.
        weight_decay: float. AdamW's decoupled weight decay.
        batch_size: int. Training sequences per batch.
    """

    learning_rate: float = 3e-3
    weight_decay: float = 4e-5
    batch_size: int = 64


GROUPS = {"encoder": EncoderConfig, "head": HeadConfig, "training": TrainingConfig}


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """The encoder, head and training settings of one model."""

    encoder: EncoderConfig = EncoderConfig()
    head: HeadConfig = HeadConfig()
    training: TrainingConfig = TrainingConfig()

    @classmethod
    def from_dict(cls, values):
        """Sorts a flat dict into the three groups; missing keys keep their defaults.

        Raises:
            ValueError: naming every key that no group has.
        """
        known = {
            field.name: group for group, config in GROUPS.items() for field in dataclasses.fields(config)
        }
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(
                f"Unknown hyperparameter(s) {', '.join(map(repr, unknown))}; known: {sorted(known)}"
            )
        grouped = {group: {} for group in GROUPS}
        for key, value in values.items():
            grouped[known[key]][key] = tuple(value) if key == "filters" else value
        return cls(**{group: GROUPS[group](**grouped[group]) for group in GROUPS})

    def to_dict(self):
        """The flat dict (`from_dict`'s inverse), for results files."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for group in GROUPS
            for key, value in dataclasses.asdict(getattr(self, group)).items()
        }
