"""The errors a user can cause, each naming the bad value.

The command line reports any `MnistVitError` as one line on stderr with exit
code 2; library code raises them and never prints or exits itself.
"""


def printable(message):
    """`message` with control characters escaped (a newline as `\\n`): one line, whatever a file's name."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(message))


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


class RunFolderError(MnistVitError):
    """A run folder that cannot be resumed: other settings, a damaged file, or in use by another process."""


class TrainingDiverged(MnistVitError):
    """Training reached a loss that is not a finite number."""
