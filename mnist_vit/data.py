"""Loading MNIST and splitting it into train, validation and test.

Where the data comes from, in order:

1. an explicit ``path`` argument (the scripts' ``--data`` option),
2. the environment variable ``MNIST_VIT_DATA``,
3. Keras's own download, ``keras.datasets.mnist.load_data()``.

A file is read with ``numpy.load(path, allow_pickle=False)`` and must hold the
arrays of Keras's ``mnist.npz`` layout: ``x_train`` / ``x_test`` uint8
``(N, 28, 28)`` images and ``y_train`` / ``y_test`` integer labels ``(N,)`` in
0..9. Anything else raises :class:`MnistDataError` naming the file and the
problem.
"""

import dataclasses
import os
import zipfile

import numpy as np

from mnist_vit.errors import MnistDataError

DATA_ENV_VAR = "MNIST_VIT_DATA"
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
VALIDATION_SIZE = 5000


@dataclasses.dataclass(frozen=True)
class Split:
    """One split of MNIST.

    Attributes:
        images: uint8 array `(N, 28, 28)`, pixel values 0..255.
        labels: uint8 array `(N,)`, digits 0..9.
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)


def resolve_data_path(path=None):
    """Returns the explicit path, else `$MNIST_VIT_DATA`, else `None` (download)."""
    if path is not None:
        return os.fspath(path)
    return os.environ.get(DATA_ENV_VAR) or None


def _check_pair(path, images, labels, name):
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise MnistDataError(
            f"{path}: x_{name} must be uint8 images of shape (N, 28, 28), "
            f"got dtype {images.dtype} and shape {images.shape}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise MnistDataError(
            f"{path}: y_{name} must be integer labels of shape (N,), "
            f"got dtype {labels.dtype} and shape {labels.shape}"
        )
    if len(labels) != len(images):
        raise MnistDataError(
            f"{path}: x_{name} has {len(images)} images but y_{name} has {len(labels)} labels"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise MnistDataError(
            f"{path}: y_{name} holds labels outside 0..9 (min {labels.min()}, max {labels.max()})"
        )
    return images, labels.astype(np.uint8)


def read_npz(path):
    """Reads and validates an MNIST `.npz` file in Keras's layout.

    Returns:
        `((x_train, y_train), (x_test, y_test))` as uint8 arrays.

    Raises:
        MnistDataError: the file is missing, not an npz archive, lacks an
            array, or an array has the wrong shape, dtype or label range.
    """
    if not os.path.isfile(path):
        raise MnistDataError(f"{path}: MNIST file not found")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in archive.files]
            if missing:
                raise MnistDataError(
                    f"{path}: missing array(s) {', '.join(missing)}; expected "
                    "x_train, y_train, x_test, y_test"
                )
            arrays = {key: archive[key] for key in archive.files}
    except MnistDataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise MnistDataError(f"{path}: not a readable .npz file ({type(error).__name__}: {error})") from None
    train = _check_pair(path, arrays["x_train"], arrays["y_train"], "train")
    test = _check_pair(path, arrays["x_test"], arrays["y_test"], "test")
    return train, test


def load_mnist(path=None):
    """Loads MNIST from `path`, `$MNIST_VIT_DATA`, or Keras's download.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images `(N, 28, 28)`
        and uint8 labels `(N,)`.
    """
    path = resolve_data_path(path)
    if path is not None:
        return read_npz(path)
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # no network, a proxy, a corrupt cache...
        raise MnistDataError(
            f"Keras could not download MNIST ({type(error).__name__}: {error}); "
            f"give a local mnist.npz with --data PATH or ${DATA_ENV_VAR}"
        ) from None
    return (
        _check_pair("keras.datasets.mnist", x_train, y_train, "train"),
        _check_pair("keras.datasets.mnist", x_test, y_test, "test"),
    )


def load_splits(path=None, validation_size=VALIDATION_SIZE):
    """Loads MNIST as three disjoint splits.

    The validation split is the last `validation_size` images of MNIST's
    training split, the train split the rest, and the test split MNIST's test
    split. Nothing is ever tuned or early-stopped on the test split.

    Returns:
        A dict `{"train": Split, "validation": Split, "test": Split}`.
    """
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    if not 0 < validation_size < len(y_train):
        raise ValueError(f"validation_size must be in 1..{len(y_train) - 1}, got {validation_size}")
    cut = len(y_train) - validation_size
    return {
        "train": Split(x_train[:cut], y_train[:cut]),
        "validation": Split(x_train[cut:], y_train[cut:]),
        "test": Split(x_test, y_test),
    }
