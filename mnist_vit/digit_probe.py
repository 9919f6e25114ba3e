"""How well a trained model's frozen encoder reads one digit: a linear probe, and the limit it sets on sums.

A sequence model learns from its task's answer only, never from digit
labels; its image encoder still has to read each digit. A linear probe
measures how well it does: a softmax layer fit on the frozen encoder's
embeddings of training images, labels used by the probe alone, scored on
MNIST's test images. If a model reads one digit right with probability p,
independently per image, a sum of L digits is exact with probability about
p**L (`reader_limit`): the limit that the by-length figure draws beside the
sum models' accuracy.
"""

import keras
import numpy as np

from mnist_vit.data import NUM_CLASSES
from mnist_vit.sequences import EVALUATION_BATCH_SIZE

PROBE_EPOCHS = 20
PROBE_SEED = 0


def embed(encoder, images):
    """The frozen encoder's embeddings `(n, dim)` of uint8 images `(n, 28, 28)`, in inference mode."""
    pixels = images[..., None].astype("float32")
    return encoder.predict(pixels, batch_size=EVALUATION_BATCH_SIZE, verbose=0)


def digit_probe_accuracy(encoder, train, test, images, epochs=PROBE_EPOCHS):
    """Accuracy of a linear probe on `encoder`'s embeddings: fit on `train`, read on `test`.

    The probe is `Dense(10, softmax)` on the embeddings of the first
    `images` images of `train`, standardized with their per-feature
    mean and std, fit with Adam and cross-entropy for
    `epochs` epochs from a fixed seed (`PROBE_SEED`); the encoder's weights
    do not change.

    Args:
        encoder: an image model `(batch, 28, 28, 1)` -> `(batch, dim)`, e.g.
            a trained sequence model's
            `model.get_layer(mnist_vit.encoder.ENCODER_NAME)`.
        train: `mnist_vit.data.Split` the probe learns from.
        test: `mnist_vit.data.Split` it is scored on.
        images: int. How many images of each split the probe reads (the
            first ones); the main job gives its test budget, 10,000 by
            default: all of MNIST's test images.

    Returns:
        float: the share of the test images read whose digit the probe
        reads right.
    """
    features = embed(encoder, train.images[:images])
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-6
    keras.utils.set_random_seed(PROBE_SEED)
    probe = keras.Sequential(
        [keras.Input(features.shape[1:]), keras.layers.Dense(NUM_CLASSES, activation="softmax")],
        name="digit_probe",
    )
    probe.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    labels = train.labels[:images].astype("int32")
    probe.fit((features - mean) / std, labels, epochs=epochs, batch_size=256, verbose=0)
    test_features = (embed(encoder, test.images[:images]) - mean) / std
    predicted = probe.predict(test_features, batch_size=EVALUATION_BATCH_SIZE, verbose=0)
    return float(np.mean(np.argmax(predicted, axis=1) == test.labels[:images]))


def reader_limit(p, lengths):
    """`{str(length): p**length}`: a sum's exact accuracy if each digit is read right with probability p."""
    return {str(length): float(p) ** length for length in lengths}
