"""Command-line plumbing shared by `mnist-vit` and the experiment scripts.

Argument errors and every `MnistVitError` become one line on stderr and exit
code 2.
"""

import argparse
import contextlib
import math
import os
import signal
import stat
import sys
import tempfile

from mnist_vit.backends import restore_stderr
from mnist_vit.errors import MnistVitError, UsageError, printable


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line on stderr and exit code 2."""

    def error(self, message):
        print(f"error: {printable(message)} (see --help)", file=sys.stderr)
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
MAX_SEED = 2**31 - 1  # every backend's and NumPy's random generators take seeds up to this
seed_int = bounded_int(0, MAX_SEED)


def bounded_float(low, high, low_inclusive=True):
    """argparse type: a finite number in [low, high] (in (low, high] when `low_inclusive` is false).

    NaN and infinities are refused: an option such as a learning rate of
    `inf` would otherwise train to NaN and report it as a result.
    """
    what = f"a number in {'[' if low_inclusive else '('}{low:g}, {high:g}]"

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        above_low = value >= low if low_inclusive else value > low
        if not (math.isfinite(value) and above_low and value <= high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    return parse


fraction = bounded_float(0, 1)


PROBE_ATTEMPTS = 20  # a probe whose new folder another check removed meanwhile is tried again


def check_writable(folder):
    """Raises UsageError naming `folder` when it cannot be created or written; leaves nothing behind.

    The missing folders of the path are created for a probe file and
    removed again, so a command refused later leaves no empty folder. The
    probe file has a name of its own (`tempfile`), so processes that check
    one shared folder at once (distributed tuning) never remove each
    other's probe; a new folder one of them removes while another creates
    it is created again, and may stay (they all go on to use it).
    """
    if not folder:
        raise UsageError("an output folder is an empty path; name a folder")
    folder = os.path.abspath(folder)
    missing = []
    parent = folder
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    try:
        for attempt in range(PROBE_ATTEMPTS):
            try:
                os.makedirs(folder, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
                    pass
                break
            except (FileNotFoundError, FileExistsError):
                # Another process that checks the same new folder removed it (or a new parent)
                # after its own probe, during makedirs or before this probe.
                if attempt == PROBE_ATTEMPTS - 1:
                    raise
    except OSError as error:
        raise UsageError(f"output folder {folder} is not writable ({error.strerror or error})") from None
    finally:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                os.rmdir(created)


def check_output_file(path, what):
    """Raises UsageError unless `path` is a regular file or a missing path in a writable folder.

    A folder, device, named pipe or socket is refused before any work: a
    results file is written by replacing it, which would destroy such a file.
    """
    if not path:
        raise UsageError(f"the {what} is an empty path; name a file")
    if os.path.isdir(path):
        raise UsageError(f"{what} {path} is a folder")
    if os.path.lexists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        raise UsageError(f"{what} {path} is not a regular file (a device, pipe or socket)")
    check_writable(os.path.dirname(os.path.abspath(path)))


def check_output_folder(folder, what, files=(), file_what="file"):
    """Raises UsageError unless `folder` is a folder (or missing and creatable) where `files` can be written.

    Each of `files` (names in `folder`, each a `file_what`) must be a
    regular file or missing.
    """
    if not folder:
        raise UsageError(f"the {what} is an empty path; name a folder")
    if os.path.lexists(folder) and not os.path.isdir(folder):
        raise UsageError(f"{what} {folder} is not a folder")
    for name in files:
        check_output_file(os.path.join(folder, name), file_what)
    check_writable(folder)


def run_main(main, interrupted="stopped"):
    """Runs `main()`; a `MnistVitError` becomes `error: ...` on stderr and exit code 2.

    Ctrl-C (SIGINT) and SIGTERM print `interrupted` as one line, without a
    traceback, and end the process at once with the shell's code for the
    signal (130, 143), as a kill would: every file is written atomically
    and an epoch counts as done only once its backup is whole, so nothing
    finished is lost and a resumed run trains as an uninterrupted one. A
    handler, not `KeyboardInterrupt`: TensorFlow's input pipeline can
    swallow the exception and carry on.
    """

    def stop(signum, frame):
        restore_stderr()  # the signal may come while a backend's import has stderr silenced
        sys.stdout.flush()
        print(f"\n{interrupted}", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        return main()
    except MnistVitError as error:
        print(f"error: {printable(error)}", file=sys.stderr)
        sys.exit(2)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
