"""Command-line plumbing shared by `mnist-vit` and the experiment scripts.

Argument errors and every `MnistVitError` become one line on stderr and exit
code 2.
"""

import argparse
import os
import signal
import sys
import tempfile

from mnist_vit.errors import MnistVitError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line on stderr and exit code 2."""

    def error(self, message):
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def bounded_int(low, high=None):
    """argparse type: an integer in low..high (inclusive; no upper bound if `high` is None)."""
    if high is not None:
        what = f"a whole number in {low:,}..{high:,}"
    else:
        what = "a positive integer" if low == 1 else f"a whole number >= {low:,}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value:,}")
        return value

    return parse


positive_int = bounded_int(1)
non_negative_int = bounded_int(0)


def positive_float(text):
    """argparse type: a float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def fraction(text):
    """argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value}")
    return value


def check_writable(folder):
    """Creates `folder` if needed; raises UsageError naming it when it cannot be written.

    The probe file has a name of its own (`tempfile`), so processes that
    check one shared folder at once (distributed tuning) never remove each
    other's probe.
    """
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise UsageError(f"output folder {folder} is not writable ({error.strerror})") from None


def run_main(main, interrupted="stopped"):
    """Runs `main()`; a `MnistVitError` becomes `error: ...` on stderr and exit code 2.

    Ctrl-C (SIGINT) prints `interrupted` as one line, without a traceback,
    and ends the process at once with exit code 130 (the shell's code for
    it), as a kill would: every file is written atomically, so nothing
    finished is lost. A handler, not `KeyboardInterrupt`: TensorFlow's
    input pipeline can swallow the exception and carry on.
    """

    def stop(signum, frame):
        sys.stdout.flush()
        print(f"\n{interrupted}", file=sys.stderr, flush=True)
        os._exit(130)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        return main()
    except MnistVitError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    finally:
        signal.signal(signal.SIGINT, previous)
