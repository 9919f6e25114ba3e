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

from mnist_vit.backends import import_keras
from mnist_vit.errors import MnistDataError
from mnist_vit.safe_files import check_readable_file

DATA_ENV_VAR = "MNIST_VIT_DATA"
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
VALIDATION_SIZE = 5000
ARRAYS = ("x_train", "y_train", "x_test", "y_test")
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
MAX_IMAGES = 10_000_000  # a header that claims more is refused before anything is allocated


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
    if not len(labels):
        raise MnistDataError(f"{path}: x_{name} and y_{name} hold no images")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise MnistDataError(
            f"{path}: y_{name} holds labels outside 0..9 (min {labels.min()}, max {labels.max()})"
        )
    return images, labels.astype(np.uint8)


def _check_headers(path):
    """Checks every array's header (dtype, shape, stored size) before any array is read into memory.

    Raises:
        MnistDataError: a missing array, a shape of more than `MAX_IMAGES`
            images, or a header whose shape needs more bytes than the
            archive stores.
    """
    with zipfile.ZipFile(path) as archive:
        members = {name.removesuffix(".npy"): archive.getinfo(name) for name in archive.namelist()}
        missing = [key for key in ARRAYS if key not in members]
        if missing:
            raise MnistDataError(
                f"{path}: missing array(s) {', '.join(missing)}; expected {', '.join(ARRAYS)}"
            )
        for key in ARRAYS:
            with archive.open(members[key]) as member:
                version = np.lib.format.read_magic(member)
                if version not in HEADER_READERS:
                    raise MnistDataError(f"{path}: {key} has .npy format version {version}, not 1.0 or 2.0")
                shape, _, dtype = HEADER_READERS[version](member)
                header_bytes = member.tell()
            count = shape[0] if shape else 1
            if count > MAX_IMAGES:
                raise MnistDataError(
                    f"{path}: {key} claims {count:,} entries; at most {MAX_IMAGES:,} are read"
                )
            needed = header_bytes + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if members[key].file_size < needed:
                raise MnistDataError(
                    f"{path}: {key} claims shape {shape} ({needed:,} bytes) but the archive stores "
                    f"{members[key].file_size:,} bytes: the file is damaged or crafted"
                )


def read_npz(path):
    """Reads and validates an MNIST `.npz` file in Keras's layout.

    Returns:
        `((x_train, y_train), (x_test, y_test))` as uint8 arrays.

    Raises:
        MnistDataError: the file is missing, not an npz archive, lacks an
            array, or an array has the wrong shape, dtype or label range.
    """
    if not os.path.exists(path):
        raise MnistDataError(f"{path}: MNIST file not found")
    check_readable_file(path, "MNIST file", MnistDataError)
    if not zipfile.is_zipfile(path):
        raise MnistDataError(f"{path}: not a readable .npz file (an .npz is a zip archive of .npy arrays)")
    try:
        _check_headers(path)
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ARRAYS}
    except MnistDataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as error:
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
    keras = import_keras()
    cache = os.path.join(
        os.environ.get("KERAS_HOME") or os.path.expanduser(os.path.join("~", ".keras")), "datasets"
    )
    cache_existed = os.path.isdir(cache)
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # no network, a proxy, a corrupt cache...
        if not cache_existed and os.path.isdir(cache) and not os.listdir(cache):
            os.rmdir(cache)  # a failed download leaves nothing behind
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
    split. Nothing is ever tuned or chosen on the test split.

    Returns:
        A dict `{"train": Split, "validation": Split, "test": Split}`.
    """
    if validation_size < 1:
        raise ValueError(f"validation_size must be positive, got {validation_size}")
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    if validation_size >= len(y_train):
        raise MnistDataError(
            f"{resolve_data_path(path) or 'keras.datasets.mnist'}: the training split has {len(y_train):,} "
            f"images; at least {validation_size + 1:,} are needed ({validation_size:,} for validation)"
        )
    cut = len(y_train) - validation_size
    return {
        "train": Split(x_train[:cut], y_train[:cut]),
        "validation": Split(x_train[cut:], y_train[cut:]),
        "test": Split(x_test, y_test),
    }
