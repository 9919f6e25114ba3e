"""KerasTuner search space for the sequence tasks' Transformer models."""

import keras_tuner

from mnist_vit.sequence_training import build_and_compile, make_batches
from mnist_vit.sequences import EVALUATION_BATCH_SIZE, VALIDATION_SEED

# Self-attention blocks before the head: the sum Transformer needs at least
# one; the anchor model's cross-attention works without any.
NUM_BLOCKS = {"sum": (1, 2), "anchor": (0, 1)}

# The encoder's training-time augmentation by default. Sum: with the loss on
# the sum's distribution (`mnist_vit.sum_distribution.SumModel`) the model
# learns fast enough with it, and without it the model learns the training
# images by heart (probe, tensorflow, 24 epochs: 99.99% of single training
# digits read right, 99.2% of validation digits; with augmentation 0.976
# validation exact accuracy against 0.965 without). Anchor: its best run had
# none (0.9916 test accuracy without augmentation, 0.9847 with).
AUGMENT_DEFAULT = {"sum": True, "anchor": False}


def search_space(hp, task_name="sum"):
    """Maps `hp` to the Transformer's hyperparameters.

    The defaults are the first trial of a random or Bayesian search
    (`mnist_vit.tuning.DefaultsFirst`): the best values that an earlier
    sum-task search found, with augmentation by task (`AUGMENT_DEFAULT`).

    Args:
        hp: `keras_tuner.HyperParameters`.
        task_name: "sum" or "anchor" (they differ in `num_blocks`' range and
            in `AUGMENT_DEFAULT`).

    Returns:
        dict of builder keyword arguments (`augment` included: the encoder's
        training-time augmentation on or off) plus `learning_rate` and
        `weight_decay`.
    """
    return {
        "embed_dim": hp.Choice("embed_dim", [32, 64, 128], default=64),
        "augment": hp.Boolean("augment", default=AUGMENT_DEFAULT[task_name]),
        "num_blocks": hp.Int("num_blocks", *NUM_BLOCKS[task_name], default=1),
        "num_heads": hp.Choice("num_heads", [2, 4], default=2),
        "ff_dim": hp.Choice("ff_dim", [64, 128, 256], default=128),
        "dropout": hp.Float("dropout", 0.0, 0.3, step=0.1, default=0.0),
        "learning_rate": hp.Float("learning_rate", 1e-3, 5e-3, sampling="log", default=3e-3),
        "weight_decay": hp.Float("weight_decay", 1e-5, 1e-3, sampling="log", default=4e-5),
    }


class SequenceHyperModel(keras_tuner.HyperModel):
    """The Transformer of a sequence task, for KerasTuner.

    `build(hp)` only maps `hp` onto the plain builder (via `search_space`);
    `fit` draws the training sequences and fixed validation sequences and
    passes the tuner's `**kwargs` (epochs, callbacks) on to `model.fit`.

    Args:
        task: a `Task` from `mnist_vit.tasks.get_task`.
        splits: dict of `Split` with "train" and "validation".
        train_sequences: int. Fresh training sequences per epoch.
        validation_sequences: int. Fixed validation sequences.
        epochs: int. Epochs per trial (sets the learning-rate schedule).
        batch_size: int.
        seed: int. Seed of the training sequences.
    """

    def __init__(
        self, task, splits, train_sequences, validation_sequences, epochs, batch_size, seed=0, **kwargs
    ):
        super().__init__(**kwargs)
        self.task = task
        self.splits = splits
        self.train_sequences = train_sequences
        self.validation_sequences = validation_sequences
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed

    def hyperparameters(self, hp):
        """The full hyperparameter dict a trial trains with."""
        return {**search_space(hp, self.task.name), "batch_size": self.batch_size}

    def _batches(self):
        train = make_batches(
            self.task,
            "transformer",
            self.splits["train"],
            self.train_sequences,
            self.batch_size,
            self.seed,
            fresh=True,
        )
        validation = make_batches(
            self.task,
            "transformer",
            self.splits["validation"],
            self.validation_sequences,
            EVALUATION_BATCH_SIZE,
            VALIDATION_SEED,
        )
        return train, validation

    def build(self, hp):
        steps = self.epochs * -(-self.train_sequences // self.batch_size)
        return build_and_compile(self.task, "transformer", self.hyperparameters(hp), steps)

    def fit(self, hp, model, *args, **kwargs):
        train, validation = self._batches()
        return model.fit(train, *args, validation_data=validation, **kwargs)
