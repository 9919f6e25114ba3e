"""The Keras backends this project runs on: installed ones, and a check of the chosen one."""

import contextlib
import importlib.util
import logging
import os
import sys

from mnist_vit.errors import BackendError, printable

BACKENDS = ("tensorflow", "jax", "torch")
_real_stderr = None  # while `quiet_native_stderr` silences descriptor 2: a copy of the real one


def installed_backends():
    """The entries of `BACKENDS` whose package can be imported here, in that order."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def check_backend():
    """Checks `KERAS_BACKEND`, and that TensorFlow is installed, before Keras is imported.

    An unknown or uninstalled backend raises `BackendError` naming the
    valid ones; so does a missing TensorFlow, with the extra that installs
    it (TensorFlow is the default backend and, on every backend, writes the
    TensorBoard logs). Uncaught, that error is printed as one `error:` line and the
    process exits with code 2, as every other user error of the command
    line is (Keras itself would fail deep inside its import).
    """

    name = os.environ.get("KERAS_BACKEND")
    if "keras" in sys.modules:
        return
    if name is not None and name not in BACKENDS:
        problem = f"KERAS_BACKEND={name!r} is not a Keras backend; use one of {', '.join(BACKENDS)}"
    elif importlib.util.find_spec("tensorflow") is None:
        problem = (
            "TensorFlow is not installed (Keras's default backend, and the TensorBoard logs on every "
            "backend): pip install -e '.[cpu]', or '.[gpu]' on a machine with an NVIDIA GPU"
        )
    elif name is not None and importlib.util.find_spec(name) is None:
        problem = f"KERAS_BACKEND={name} is not installed here; installed: {', '.join(installed_backends())}"
    else:
        return
    _report_uncaught(BackendError)
    raise BackendError(problem)


def _report_uncaught(error_class):
    """Makes an uncaught `error_class` print `error: ...` on stderr and exit with code 2."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        if not issubclass(kind, error_class):
            return previous(kind, value, traceback)
        print(f"error: {printable(value)}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(2)

    sys.excepthook = hook


def import_keras():
    """Imports and returns Keras with TensorFlow's log lines a user does not need silenced.

    TensorFlow is imported here on every backend (Keras itself imports it
    when it seeds its random state and for the TensorBoard logs); its native
    start-up lines on stderr are dropped; unless
    `TF_CPP_MIN_LOG_LEVEL` is set, TensorFlow's runtime keeps only its
    errors (not its information lines, e.g. about memory settings), and
    TensorFlow's Python logger only its errors (not its retracing warnings:
    every sequence length is a shape of its own). The command line and the
    scripts call this once their arguments and files are checked, so that a
    mistake is reported at once and the backend's start-up (seconds) is paid
    only for real work.
    """
    if not os.environ.get("TF_CPP_MIN_LOG_LEVEL"):
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with quiet_native_stderr():
        import keras

        if keras.backend.backend() != "tensorflow" and importlib.util.find_spec("tensorflow"):
            # Keras imports it on every backend later (`set_random_seed`, TensorBoard): quietly, now.
            import tensorflow  # noqa: F401
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return keras


@contextlib.contextmanager
def quiet_native_stderr():
    """Sends what native code writes to stderr (file descriptor 2) to /dev/null, within the block.

    TensorFlow's C++ runtime prints start-up lines (oneDNN, CPU features)
    straight to descriptor 2 whatever `TF_CPP_MIN_LOG_LEVEL` says; Python
    exceptions raised in the block are printed after it, as usual.
    """
    global _real_stderr
    sys.stderr.flush()
    saved = os.dup(2)
    _real_stderr = saved
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        _real_stderr = None
        os.dup2(saved, 2)
        os.close(saved)


def restore_stderr():
    """Gives descriptor 2 back to the real stderr if `quiet_native_stderr` has it silenced (a signal handler
    that prints a last line calls this)."""
    if _real_stderr is not None:
        os.dup2(_real_stderr, 2)
