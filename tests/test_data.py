import hashlib

import numpy as np
import pytest

from mnist_vit.data import DATA_ENV_VAR, MnistDataError, load_mnist, load_splits, read_npz


def write_npz(path, **overrides):
    arrays = {
        "x_train": np.zeros((20, 28, 28), "uint8"),
        "y_train": np.arange(20, dtype="uint8") % 10,
        "x_test": np.zeros((10, 28, 28), "uint8"),
        "y_test": np.arange(10, dtype="uint8"),
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_real_file_has_documented_layout(mnist_path):
    (x_train, y_train), (x_test, y_test) = read_npz(mnist_path)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert hashlib.sha256(x_test.tobytes()).hexdigest()[:16] == "6d87418db22cc802"


def test_splits_are_disjoint_and_sized(mnist_path):
    splits = load_splits(mnist_path)
    assert [len(splits[k]) for k in ("train", "validation", "test")] == [55000, 5000, 10000]
    (x_train, _), _ = load_mnist(mnist_path)
    np.testing.assert_array_equal(splits["validation"].images, x_train[55000:])
    np.testing.assert_array_equal(splits["train"].images, x_train[:55000])


def test_environment_variable_is_used(tmp_path, monkeypatch):
    path = write_npz(tmp_path / "small.npz")
    monkeypatch.setenv(DATA_ENV_VAR, str(path))
    (x_train, _), (x_test, _) = load_mnist()
    assert len(x_train) == 20 and len(x_test) == 10


def test_explicit_path_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "missing.npz"))
    (x_train, _), _ = load_mnist(write_npz(tmp_path / "small.npz"))
    assert len(x_train) == 20


def test_missing_file(tmp_path):
    with pytest.raises(MnistDataError, match="not found"):
        load_mnist(tmp_path / "nope.npz")


def test_not_an_npz(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello")
    with pytest.raises(MnistDataError, match="not a readable .npz"):
        load_mnist(path)


def test_truncated_npz(tmp_path):
    path = write_npz(tmp_path / "full.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MnistDataError, match=str(path)):
        load_mnist(path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"y_test": None}, "missing array.*y_test"),
        ({"x_train": np.zeros((20, 28, 27), "uint8")}, "x_train must be uint8 images"),
        ({"x_test": np.zeros((10, 28, 28), "float32")}, "x_test must be uint8 images"),
        ({"y_train": np.full(20, 10, "uint8")}, "labels outside 0..9"),
        ({"y_train": np.zeros(19, "uint8")}, "20 images but y_train has 19"),
        ({"y_test": np.zeros((10, 1), "uint8")}, "y_test must be integer labels"),
    ],
)
def test_bad_arrays(tmp_path, overrides, message):
    path = write_npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(MnistDataError, match=message) as info:
        load_mnist(path)
    assert str(path) in str(info.value)


def test_impossible_validation_size(tmp_path):
    with pytest.raises(MnistDataError, match="training split has .* images; at least 21 are needed"):
        load_splits(write_npz(tmp_path / "small.npz"), validation_size=20)


def test_failed_download_names_the_way_out(monkeypatch):
    import keras

    def no_network():
        raise OSError("Network is unreachable")

    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(
        MnistDataError, match="could not download MNIST.*Network is unreachable.*MNIST_VIT_DATA"
    ):
        load_mnist()
