"""The CNN image encoder shared by every task, and the digit classifier."""

import dataclasses

import keras
from keras import layers

from mnist_vit.augmentation import DigitAugmentation
from mnist_vit.data import NUM_CLASSES
from mnist_vit.data_parallel import under_tensorflow_strategy

IMAGE_INPUT_SHAPE = (28, 28, 1)
DTYPE_POLICIES = ("float32", "mixed_bfloat16")  # `EncoderConfig.dtype_policy`'s choices
DATA_FORMATS = ("channels_last", "channels_first")  # `EncoderConfig.data_format`'s choices
ENCODER_NAME = "encoder"  # `build_encoder`'s model name: the encoder's layer name inside every task model


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Settings of the image encoder; the defaults are every task's starting point.

    Attributes:
        embed_dim: int. Size of the embedding.
        filters: tuple of int. Channels of each conv block.
        kernel_size: int. Conv kernel size.
        encoder_dropout: float. Dropout before the embedding.
        augment: bool. Include training-time augmentation (`DigitAugmentation`).
        dtype_policy: str. One of `DTYPE_POLICIES`: the Keras dtype policy of
            the conv blocks and dropout. `"mixed_bfloat16"` keeps float32
            weights and computes in bfloat16; the rescaling, augmentation and
            embedding stay float32 either way.
        data_format: str or None. One of `DATA_FORMATS`: the layout in which
            the conv blocks compute; `None` (the default) takes
            `default_data_format()`, the fastest on the running backend. The
            inputs, the weights and the embedding are the same in both, so
            a model saved in one layout loads and predicts alike in the
            other and on every backend.
    """

    embed_dim: int = 64
    filters: tuple = (16, 32)
    kernel_size: int = 5
    encoder_dropout: float = 0.1
    augment: bool = True
    dtype_policy: str = "float32"
    data_format: str | None = None


def default_data_format():
    """The encoder's layout on this backend: `"channels_first"` on PyTorch, `"channels_last"` elsewhere.

    Keras's PyTorch convolutions and pools compute channels-first and, given
    channels-last data, transpose and copy it at every layer, forward and
    backward; TensorFlow's and JAX's CPU convolutions are channels-last.
    The encoder's step times in both layouts on each backend:
    `docs/performance.md`.
    """
    return "channels_first" if keras.backend.backend() == "torch" else "channels_last"


@keras.saving.register_keras_serializable(package="mnist_vit")
class GlobalBatchNormalization(layers.BatchNormalization):
    """Keras's `BatchNormalization` whose training statistics cover the whole batch when data-parallel.

    Built under a TensorFlow distribution strategy (`mnist_vit.data_parallel`),
    it synchronizes the batch mean and variance across the replicas
    (`synchronized=True`), so two devices compute what one does; elsewhere
    it is Keras's layer unchanged (JAX's `DataParallel` computes global
    statistics by itself). `synchronized` is decided when the layer is built
    and not saved: Keras accepts it on the TensorFlow backend only, and a
    saved model loads on every backend.
    """

    def __init__(self, **kwargs):
        kwargs.pop("synchronized", None)
        super().__init__(synchronized=under_tensorflow_strategy(), **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["synchronized"]
        return config


def build_encoder(config=EncoderConfig(), name=ENCODER_NAME):
    """Builds the image encoder: raw image -> embedding.

    Rescaling to 0..1, optional augmentation (small rotations, shifts and
    zoom, active in training only; never flips, which turn digits into
    non-digits), then per entry of `filters` a Conv-MaxPool-BatchNorm-ReLU
    block, then dropout and a linear Dense embedding (no activation, so no
    embedding unit can die). The conv blocks compute in `config.data_format`:
    channels-first data is transposed once, after the augmentation, and
    flattened in channels-last order, so the embedding's kernel means the
    same in both layouts. Pooling comes before the normalization and the
    ReLU, so both run on a quarter of the positions: the encoder's training
    step takes 0.66x the time of Conv-BatchNorm-ReLU-MaxPool on TensorFlow
    and 0.50x on PyTorch (`docs/findings.md`). The conv blocks and
    dropout compute in `config.dtype_policy` (bfloat16 under
    `"mixed_bfloat16"`: a faster step on TensorFlow's CPU kernels, see
    `docs/findings.md`); the embedding is float32 whatever the policy.

    Args:
        config: `EncoderConfig`.
        name: str. Model name.

    Returns:
        A functional `keras.Model` mapping float32 `(batch, 28, 28, 1)` raw
        pixel values 0..255 to float32 `(batch, embed_dim)`.

    Raises:
        ValueError: `embed_dim` or a filter count below 1, a
            `dtype_policy` not in `DTYPE_POLICIES`, or a `data_format` not
            in `DATA_FORMATS`.
    """
    embed_dim, filters, kernel_size = config.embed_dim, tuple(config.filters), config.kernel_size
    if embed_dim < 1 or not filters or min(filters) < 1:
        raise ValueError(f"embed_dim and filters must be positive, got {embed_dim} and {filters}")
    if config.dtype_policy not in DTYPE_POLICIES:
        raise ValueError(f"dtype_policy must be one of {DTYPE_POLICIES}, got {config.dtype_policy!r}")
    data_format = config.data_format or default_data_format()
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be one of {DATA_FORMATS} or None, got {config.data_format!r}")
    channel_axis = 1 if data_format == "channels_first" else -1
    policy = config.dtype_policy
    inputs = keras.Input(IMAGE_INPUT_SHAPE, name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    if config.augment:
        x = DigitAugmentation(name="augment")(x)
    if data_format == "channels_first":
        x = layers.Permute((3, 1, 2), name="to_channels_first", dtype=policy)(x)
    for i, channels in enumerate(filters):
        x = layers.Conv2D(
            channels,
            kernel_size,
            padding="same",
            use_bias=False,
            data_format=data_format,
            name=f"conv_{i}",
            dtype=policy,
        )(x)
        x = layers.MaxPooling2D(2, data_format=data_format, name=f"pool_{i}", dtype=policy)(x)
        x = GlobalBatchNormalization(axis=channel_axis, name=f"bn_{i}", dtype=policy)(x)
        x = layers.ReLU(name=f"relu_{i}", dtype=policy)(x)
    x = layers.Flatten(data_format=data_format, name="flatten", dtype=policy)(x)
    x = layers.Dropout(config.encoder_dropout, name="dropout", dtype=policy)(x)
    outputs = layers.Dense(embed_dim, name="embedding", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def build_classifier(encoder, dropout=0.3):
    """Builds the digit classifier: encoder, dropout, 10-way softmax.

    Args:
        encoder: a model from `build_encoder`.
        dropout: float. Dropout before the softmax. Defaults to `0.3`.

    Returns:
        A functional `keras.Model` mapping float32 `(batch, 28, 28, 1)` raw
        pixels to class probabilities `(batch, 10)`.
    """
    inputs = keras.Input(IMAGE_INPUT_SHAPE, name="image")
    x = encoder(inputs)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name="classifier")
