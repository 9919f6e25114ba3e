"""The anchor task: given an anchor image and 1-10 images, does the anchor's digit occur among them?

Every model takes the same inputs and gives the same output:
    inputs["anchor"]: float32 `(batch, 28, 28, 1)`, raw pixels 0..255.
    inputs["sequence"]: float32 `(batch, slots, 28, 28, 1)`, raw pixels 0..255.
    inputs["mask"]: bool `(batch, slots)`, true on real slots.
    output: float32 `(batch, 1)`, the probability that the anchor's digit
        occurs among the real slots.

The cross-attention model and the Deep Sets baseline accept any number of
slots; the fully-connected baseline at most `max_len`. One encoder (shared
weights) embeds the anchor and every slot.
"""

import keras
import numpy as np
from keras import layers

from mnist_vit.backbone import sequence_backbone
from mnist_vit.cross_attention import AnchorCrossAttention
from mnist_vit.heads import flattened_slots, fully_connected_stack
from mnist_vit.hyperparameters import HeadConfig
from mnist_vit.metrics import by_length, roc_auc
from mnist_vit.presentation import Examples, Presentation, register_presentation
from mnist_vit.results import with_std
from mnist_vit.sequences import MAX_LEN
from mnist_vit.slots import MaskedSum
from mnist_vit.task_model import TaskModel
from mnist_vit.tasks import ATTENTION, FULLY_CONNECTED, LARGE_PRESET, POOLING, ModelSpec, Task, register_task

NAME = "anchor"
ATTENTION_LAYER = "cross_attention"
LONGEST = 100  # the long length whose accuracy the README gives


def anchor_occurs(digits, mask, anchor_digits):
    """Targets: 1.0 where the anchor's digit is among the real slots' digits, float32 `(n,)`."""
    return ((digits == anchor_digits[:, None]) & mask).any(axis=1).astype("float32")


def anchor_metrics(probabilities, labels, lengths):
    """Test metrics of the anchor task.

    Args:
        probabilities: float `(n,)` or `(n, 1)`, predicted P(anchor occurs).
        labels: float `(n,)`, 1.0 where the anchor's digit occurs.
        lengths: int `(n,)`, sequence lengths.

    Returns:
        dict with `accuracy` (threshold 0.5), `auc` (None when the labels
        hold one class only), `balanced_accuracy` (mean recall of the
        classes present), `loss` (binary cross-entropy), `positive_rate` and
        `accuracy_by_length`.
    """
    p = np.clip(np.asarray(probabilities, dtype="float64").reshape(-1), 1e-7, 1 - 1e-7)
    labels = np.asarray(labels).astype(bool)
    correct = (p >= 0.5) == labels
    recalls = [correct[labels == value].mean() for value in (True, False) if (labels == value).any()]
    return {
        "accuracy": float(correct.mean()),
        "auc": roc_auc(p, labels),
        "balanced_accuracy": float(np.mean(recalls)),
        "loss": float(-np.mean(np.where(labels, np.log(p), np.log(1 - p)))),
        "positive_rate": float(labels.mean()),
        "accuracy_by_length": by_length(correct, lengths),
    }


def build_anchor_transformer(encoder, head=HeadConfig()):
    """Cross-attention detector: encoder, optional self-attention blocks, anchor-to-sequence attention, head.

    The head is one logistic unit on each attention head's best match score
    (the largest attention logit over the real slots) and the attention
    output: the anchor's digit occurs when some slot matches it well. A
    better match can only mean "more likely present", so the match scores'
    weights are constrained non-negative and start at `1 / num_heads`; the
    attention output's weights start at zero.

    Args:
        encoder: image encoder, raw `(28, 28, 1)` image -> `(embed_dim,)`.
        head: `HeadConfig`. `num_blocks` self-attention blocks over the
            sequence before the cross-attention, `num_heads` (must divide
            `embed_dim`), `ff_dim`, `dropout` (blocks and attention weights).

    Returns:
        A `TaskModel` (see the module docstring for inputs and output).
    """
    inputs, sequence, anchor = sequence_backbone(encoder, head, has_anchor=True)
    attended, _, match = AnchorCrossAttention(head.num_heads, head.dropout, name=ATTENTION_LAYER)(
        anchor, sequence, padding_mask=inputs["mask"]
    )
    match_logit = layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant(1.0 / head.num_heads),
        kernel_constraint=keras.constraints.NonNeg(),
        name="match_logit",
    )(match)
    attended_logit = layers.Dense(1, kernel_initializer="zeros", use_bias=False, name="attended_logit")(
        attended
    )
    logit = layers.Add(name="logit")([match_logit, attended_logit])
    outputs = layers.Activation("sigmoid", name="probability")(logit)
    return TaskModel(inputs, outputs, task=NAME, name="anchor_transformer")


def attention_weights_model(model):
    """A model sharing `model`'s layers that outputs the cross-attention weights.

    Args:
        model: a model from `build_anchor_transformer` (trained or loaded).

    Returns:
        A `keras.Model` with the same inputs, outputting float `(batch, slots)`:
        the anchor's attention weight on each slot, averaged over heads.
    """
    _, weights, _ = model.get_layer(ATTENTION_LAYER).output
    return keras.Model(model.inputs, weights, name="anchor_attention_weights")


def build_anchor_deepsets(encoder, head=HeadConfig()):
    """Deep Sets detector: phi on each slot alone, summed, joined with the anchor's encoding, then rho.

    phi is Dense(head_units, relu) then Dense(head_units); rho is
    Dense(head_units, relu) on `[pooled, anchor]`, dropout `head.dropout`,
    and one logistic unit. No image is ever compared with another: the
    pooled sum can hold the sequence's digit histogram, and rho must find
    the anchor's digit in it.
    """
    inputs, sequence, anchor = sequence_backbone(encoder, head, has_anchor=True, attention=False)
    x = layers.Dense(head.head_units, activation="relu", name="phi_hidden")(sequence)
    x = layers.Dense(head.head_units, name="phi_output")(x)
    pooled = MaskedSum(name="pooled")(x, inputs["mask"])
    x = layers.Concatenate(name="concat")([pooled, anchor])
    x = layers.Dense(head.head_units, activation="relu", name="rho_hidden")(x)
    x = layers.Dropout(head.dropout, name="rho_dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="probability")(x)
    return TaskModel(inputs, outputs, task=NAME, name="anchor_deepsets")


def build_anchor_fc(encoder, head=HeadConfig(), max_len=MAX_LEN):
    """Fully-connected baseline: anchor and `max_len` slot embeddings, concatenated, dense layers.

    Padded slots are zeroed. Takes at most `max_len` slots. Uses
    `head.dropout` and `head.head_units`.
    """
    inputs, sequence, anchor = sequence_backbone(encoder, head, has_anchor=True, attention=False)
    x = layers.Concatenate(name="concat")([anchor, flattened_slots(sequence, inputs["mask"], max_len)])
    x = fully_connected_stack(x, head)
    outputs = layers.Dense(1, activation="sigmoid", name="probability")(x)
    return TaskModel(inputs, outputs, task=NAME, name="anchor_fc")


def describe_prediction(value, count):
    """The command line's answer."""
    answer = "yes" if value >= 0.5 else "no"
    return f"anchor's digit occurs: {answer} (probability {value:.3f}) among {count} images"


def confidence(value):
    """1 for a probability of 0 or 1, 0 for a probability of one half."""
    return abs(2.0 * value - 1.0)


def describe_results(test):
    """The README's summary of a model's test metrics."""
    text = (
        f"accuracy {with_std(test, 'accuracy')}, AUC {with_std(test, 'auc')}, "
        f"balanced {test['balanced_accuracy']:.4f}, BCE {test['loss']:.3f}"
    )
    if str(LONGEST) in test.get("accuracy_by_long_length", {}):
        accuracy = with_std(test, "accuracy_by_long_length", 3, entry=str(LONGEST))
        text += f", accuracy at length {LONGEST} (digit absent from half): {accuracy}"
    return text


def example_caption(value, target):
    """The caption of one example in the examples figure, and whether the answer is right."""
    truth = "present" if target else "absent"
    return f"p={value:.2f} ({truth})", (value >= 0.5) == bool(target)


ANCHOR = register_task(
    Task(
        name=NAME,
        has_anchor=True,
        targets=anchor_occurs,
        models={
            "transformer": ModelSpec(build_anchor_transformer, ATTENTION),
            "deepsets": ModelSpec(build_anchor_deepsets, POOLING),
            "fc": ModelSpec(build_anchor_fc, FULLY_CONNECTED, any_length=False),
        },
        loss=keras.losses.BinaryCrossentropy,
        metrics=lambda: ["accuracy", keras.metrics.AUC(name="auc")],
        monitor="val_auc",
        mode="max",
        test_metrics=anchor_metrics,
        headline="accuracy",
        key_metrics=("auc",),
        long_lengths=True,
        num_blocks=(0, 1),
        encoder={"augment": False, "dtype_policy": "mixed_bfloat16"},
        presets={
            "cpu": dict(trials=3, search_epochs=5, epochs=26, train_sequences=16000, seeds=3),
            "large": LARGE_PRESET,
        },
    )
)

register_presentation(
    NAME,
    Presentation(
        labels={"transformer": "Transformer", "deepsets": "Deep Sets", "fc": "fully connected"},
        describe_prediction=describe_prediction,
        confidence=confidence,
        describe_results=describe_results,
        original={"transformer": "0.92 accuracy, BCE 0.12", "fc": "0.77 accuracy, BCE 0.64"},
        examples=Examples(
            "Anchor task (blue frame: anchor): cross-attention weight on each sequence image (orange bar)",
            example_caption,
            slot_weights=attention_weights_model,
        ),
    ),
)
