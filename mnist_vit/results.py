"""What a results file holds: run metadata, and metrics summarised over seeds."""

import os
import platform
import shlex
import sys

import numpy as np


def run_metadata(argv=None):
    """The command, backend and versions of this run, for a results file."""
    import keras

    argv = sys.argv if argv is None else argv
    return {
        "command": "python " + shlex.join(argv),
        "backend": keras.backend.backend(),
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
    }


def benchmark_results(rows, settings):
    """A benchmark's results file: its rows, the machine, command, versions and its settings."""
    metadata = run_metadata()
    return {
        "results": rows,
        "machine": metadata["machine"],
        "command": metadata["command"],
        "versions": metadata["versions"],
        "settings": settings,
    }


def _mean_or_none(values):
    """Mean of the values that are not None (e.g. a threshold never reached); None if there are none."""
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def summarize(per_seed):
    """Mean over seeds of every metric, and `<key>_std` beside each scalar.

    Args:
        per_seed: list of metric dicts, one per seed, with the same keys;
            a value is a number or a dict of numbers (or None).

    Returns:
        dict: scalars become their mean with `<key>_std` (population std);
        dicts become the mean of each entry, ignoring None.
    """
    summary = {}
    for key, value in per_seed[0].items():
        if isinstance(value, dict):
            summary[key] = {k: _mean_or_none([s[key][k] for s in per_seed]) for k in value}
        else:
            values = [s[key] for s in per_seed]
            summary[key] = float(np.mean(values))
            summary[f"{key}_std"] = float(np.std(values))
    return summary


def with_std(summary, key, digits=4):
    """`summary[key]` with its spread over seeds, `"0.9748 ± 0.0021"` (the mean alone for one seed)."""
    std = summary.get(f"{key}_std")
    return f"{summary[key]:.{digits}f}" + (f" ± {std:.{digits}f}" if std else "")


def seconds_to_reach(history, monitor, thresholds):
    """Seconds of training until `monitor` first reached each threshold.

    Args:
        history: `History.history`, with `monitor` and `elapsed_seconds`
            (`mnist_vit.callbacks.ElapsedTime`) per epoch.
        monitor: str. The metric to read.
        thresholds: floats.

    Returns:
        `{str(threshold): seconds or None}` (None: never reached).
    """
    reached = {}
    for threshold in thresholds:
        epochs = [i for i, value in enumerate(history[monitor]) if value >= threshold]
        reached[str(threshold)] = round(history["elapsed_seconds"][epochs[0]], 1) if epochs else None
    return reached
