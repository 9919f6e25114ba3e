"""The wall-clock time of a job that may be stopped and started again, summed over its processes."""

import json
import math
import os
import threading
import time

from mnist_vit.errors import UsageError
from mnist_vit.safe_files import atomic_write_json


class RunClock:
    """Counts a job's wall-clock seconds in a file, so a resumed job goes on from its earlier processes' time.

    `path` holds `{"seconds": float, "processes": int}`: the seconds of every
    process of the job so far and how many processes ran it. Used as a
    context manager, the clock reads the file (if any), counts this process
    as one more, and rewrites the file every `interval` seconds from a
    daemon thread and on leaving, so a process that is killed loses at most
    `interval` seconds of the count.

    Args:
        path: str. The clock's file, in the job's output folder.
        interval: float. Seconds between two writes of the file.

    Raises:
        UsageError: `path` exists but does not hold a clock.
    """

    def __init__(self, path, interval=30.0):
        self.path = path
        self.interval = interval
        self.earlier, self.processes = read_clock(path)
        self.processes += 1
        self.end = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self):
        self.start = time.monotonic()
        self.save()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.end = time.monotonic()
        self._stopped.set()
        self._thread.join()
        self.save()

    def seconds(self):
        """Wall-clock seconds of the job: the earlier processes' and this one's (so far, or until it left)."""
        return self.earlier + (self.end or time.monotonic()) - self.start

    def save(self):
        atomic_write_json(self.path, {"seconds": round(self.seconds(), 1), "processes": self.processes})

    def _tick(self):
        while not self._stopped.wait(self.interval):
            self.save()


def read_clock(path):
    """`(seconds, processes)` recorded in a clock file; `(0.0, 0)` when there is none."""
    if not os.path.exists(path):
        return 0.0, 0
    problem = f"{path} is not a run clock; remove it to count the run's time afresh"
    if not os.path.isfile(path):
        raise UsageError(f"{problem} (not a regular file)")
    try:
        with open(path) as f:
            clock = json.load(f)
        seconds, processes = float(clock["seconds"]), clock["processes"]
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{problem} ({error})") from None
    if not (math.isfinite(seconds) and seconds >= 0 and type(processes) is int and processes >= 0):
        raise UsageError(f"{problem} (seconds {clock['seconds']!r}, processes {clock['processes']!r})")
    return seconds, processes
