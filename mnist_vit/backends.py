"""The Keras backends this project runs on, and which of them are installed."""

import importlib.util

BACKENDS = ("tensorflow", "jax", "torch")


def installed_backends():
    """The entries of `BACKENDS` whose package can be imported here, in that order."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]
