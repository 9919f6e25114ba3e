"""The errors a user can cause, each naming the bad value.

The command line reports any `MnistVitError` as one line on stderr with exit
code 2; library code raises them and never prints or exits itself.
"""


class MnistVitError(Exception):
    """A problem with what the user asked for or gave, reported as one line."""


class UsageError(MnistVitError):
    """An option, or a combination of options, that cannot work."""


class MnistDataError(MnistVitError, ValueError):
    """The MNIST file is missing, unreadable or not in Keras's layout."""


class ImageError(MnistVitError):
    """An image file that cannot be read or holds no digit."""


class ModelFileError(MnistVitError):
    """A model file that is missing, damaged, or not a mnist_vit model."""


class BackendError(MnistVitError, ImportError):
    """`KERAS_BACKEND` names a backend that is not Keras's or is not installed."""
