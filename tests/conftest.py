"""Shared fixtures (the MNIST file, tiny synthetic splits, a clean Keras session) and the test workers."""

import os
import pathlib

import keras
import numpy as np
import pytest

from mnist_vit.data import DATA_ENV_VAR, Split

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
MAX_WORKERS = 4  # each worker process imports a whole Keras backend and trains on every core


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject.toml's default): a worker per core this process may use, at most `MAX_WORKERS`.

    `os.sched_getaffinity` (Linux) counts the cores a container grants; elsewhere (macOS) it does not exist.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


@pytest.fixture(autouse=True)
def clean_session():
    keras.backend.clear_session()
    yield


@pytest.fixture(scope="session")
def mnist_path():
    """Path of the real MNIST file: `$MNIST_VIT_DATA`, else `../shared/data/mnist.npz`."""
    path = os.environ.get(DATA_ENV_VAR) or str(SHARED_MNIST)
    if not os.path.isfile(path):
        message = f"MNIST file not found at {path}; set {DATA_ENV_VAR}"
        if os.environ.get("CI"):  # CI must run every test, never skip one quietly
            pytest.fail(message)
        pytest.skip(message)
    return path


def make_split(n, seed):
    """A synthetic split: each image is filled with a value that encodes its index."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype("uint8")
    images = rng.integers(0, 256, size=(n, 28, 28)).astype("uint8")
    return Split(images, labels)


@pytest.fixture
def tiny_split():
    return make_split(200, seed=0)


def digit_split(n, seed=0):
    """A learnable synthetic split: digit d is a bright bar in row block d."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype("uint8")
    images = rng.integers(0, 30, size=(n, 28, 28)).astype("uint8")
    for i, digit in enumerate(labels):
        images[i, 2 * digit + 4 : 2 * digit + 6, 4:24] = 255
    return Split(images, labels)
