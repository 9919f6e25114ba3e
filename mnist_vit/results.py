"""Results files: run metadata, metrics summarised over seeds, where committed ones lie, how two compare."""

import importlib
import os
import platform
import shlex
import sys

import numpy as np

DEFAULT_BACKEND = "tensorflow"  # Keras's, when neither KERAS_BACKEND nor keras.json names one
REFERENCE_BACKEND = "tensorflow"  # the backend whose committed runs are the reference for every run


def backend_folder(folder, backend):
    """A backend's committed files: in `folder` for `REFERENCE_BACKEND`, else in `folder/<backend>`."""
    return folder if backend == REFERENCE_BACKEND else os.path.join(folder, backend)


def cpu_model(cpuinfo_path="/proc/cpuinfo"):
    """The processor's name as Linux gives it (the first `model name` of `cpuinfo_path`), else
    `platform.processor()`."""
    try:
        with open(cpuinfo_path) as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "an unnamed processor"


def run_metadata(argv=None):
    """The command, backend, versions and machine of this run, for a results file.

    The command names the backend (`KERAS_BACKEND=jax python ...`) unless it
    is Keras's default, so that it reruns the same way. The versions hold
    the backend's own package beside Python, Keras and NumPy.
    """
    import keras

    argv = sys.argv if argv is None else argv
    backend = keras.backend.backend()
    chosen = "" if backend == DEFAULT_BACKEND else f"KERAS_BACKEND={backend} "
    return {
        "command": f"{chosen}python {shlex.join(argv)}",
        "backend": backend,
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            "numpy": np.__version__,
            backend: importlib.import_module(backend).__version__,
        },
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} CPU cores",
    }


def _mean_and_std(values):
    """Mean and sample std (0 for one value) of the values that are not None; `(None, None)` if none are."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def summarize(per_seed):
    """Mean over seeds of every metric, and `<key>_std` beside each.

    Args:
        per_seed: list of metric dicts, one per seed, with the same keys;
            a value is a number or a dict of numbers (or None).

    Returns:
        dict: scalars become their mean with `<key>_std` (the sample
        standard deviation, n - 1 in the denominator; 0 for one seed);
        dicts become the mean of each entry and `<key>_std` a dict of their
        stds, ignoring None (a threshold never reached).
    """
    summary = {}
    for key, value in per_seed[0].items():
        if isinstance(value, dict):
            entries = {k: _mean_and_std([s[key][k] for s in per_seed]) for k in value}
            summary[key] = {k: mean for k, (mean, _) in entries.items()}
            summary[f"{key}_std"] = {k: std for k, (_, std) in entries.items()}
        else:
            summary[key], summary[f"{key}_std"] = _mean_and_std([s[key] for s in per_seed])
    return summary


def with_std(summary, key, digits=4, entry=None, seeds=None):
    """`summary[key]` with its spread over seeds, `"0.9748 ± 0.0021"` (the mean alone for one seed).

    A spread too small for `digits` decimals is written with one significant
    digit (`"0.9988 ± 3e-05"`). A spread of exactly zero is left out, as
    `summarize` gives one seed, unless `seeds` (the number of seeds
    summarised) is more than one: then every seed gave the same figure,
    written `"0.5318 ± 0"`. With `entry`, the entry of the dict `summary[key]`
    (e.g. one length of a per-length metric).
    """
    mean, std = summary[key], summary.get(f"{key}_std")
    if entry is not None:
        mean, std = mean[entry], (std or {}).get(entry)
    if not std:
        return f"{mean:.{digits}f}" + (" ± 0" if std == 0 and (seeds or 1) > 1 else "")
    return f"{mean:.{digits}f} ± " + (f"{std:.{digits}f}" if round(std, digits) else f"{std:.0e}")


def best_epoch(history, monitor, mode):
    """The index of the epoch of `History.history` with the best `monitor` ("max" or "min" is better).

    Ties go to the earliest epoch, as `ModelCheckpoint(save_best_only=True)` keeps it.
    """
    values = history[monitor]
    pick = max if mode == "max" else min
    return pick(range(len(values)), key=values.__getitem__)


def best_epoch_value(history, monitor, mode):
    """The best value of `monitor` over the epochs of `History.history` ("max" or "min" is better)."""
    return float(history[monitor][best_epoch(history, monitor, mode)])


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


AGREES = "agrees within 2 std"
DIFFERS = "differs by more than 2 std"
NO_SPREAD = "the reference has one seed: no spread to compare with"


def compare_to_reference(task, models, reference):
    """Each model's key test figures against a reference run's: `[(model, key, verdict)]`.

    For every model of `models` that the reference has, and each of
    `task.headline` and `task.key_metrics` that its test results hold, the
    verdict is `AGREES` when the two means are within twice the reference's
    std over seeds, `DIFFERS` when they are not, and `NO_SPREAD` when the
    reference has one seed. A reference whose seeds all gave the same figure
    (a std of zero over several seeds) is agreed with only by that figure.

    Args:
        task: `Task`.
        models: the `models` of a results file.
        reference: a results file's content (its `models`, and its
            `settings` with the number of `seeds`).
    """
    verdicts = []
    reference_models = reference["models"]
    one_seed = reference["settings"]["seeds"] == 1
    for name, entry in models.items():
        if name not in reference_models:
            continue
        mine, ref = entry["test"], reference_models[name]["test"]
        for key in dict.fromkeys((task.headline, *task.key_metrics)):
            if key not in ref:
                continue
            if one_seed:
                verdicts.append((name, key, NO_SPREAD))
                continue
            spread = ref.get(f"{key}_std") or 0.0
            verdicts.append((name, key, AGREES if abs(mine[key] - ref[key]) <= 2 * spread else DIFFERS))
    return verdicts
