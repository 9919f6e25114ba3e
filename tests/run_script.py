"""Running the command line and the experiment scripts as a user would."""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
STUDIES = EXPERIMENTS / "studies"  # the studies and benchmarks, with their shared `harness` module
RUN_TUNER = str(EXPERIMENTS / "run_tuner.py")

# A search small enough for a test on any backend.
TINY_SEARCH = [
    "--search-only", "--search-epochs", "1", "--train-sequences", "64",
    "--validation-sequences", "64", "--batch-size", "32",
]  # fmt: skip
# A whole run of the anchor task (search, two models, one seed of two epochs) small enough for a test:
# `mnist_vit.settings.Settings` fields, and the same as `run_tuner.py` options.
TINY_ANCHOR = dict(
    task="anchor", trials=1, search_epochs=1, epochs=2, train_sequences=64, validation_sequences=64,
    test_sequences=50, batch_size=32, seeds=1,
)  # fmt: skip


def command_options(**settings):
    """The `run_tuner.py` options that give these `Settings` fields (a true flag as a bare option)."""
    argv = []
    for key, value in settings.items():
        option = "--" + key.replace("_", "-")
        if value is True:
            argv.append(option)
        elif value is not False and value is not None:
            argv += [option, str(value)]
    return argv


TINY_ANCHOR_RUN = command_options(**TINY_ANCHOR)


def script_env(**extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="3")
    env.update(extra)
    return env


def run_experiment(script, args, timeout=300, cwd=None, **extra_env):
    """Runs `experiments/<script> args` to completion, in folder `cwd` if given; returns the result."""
    return subprocess.run(
        [sys.executable, str(EXPERIMENTS / script), *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=script_env(**extra_env),
    )  # fmt: skip


def run_benchmark(script, results, backend):
    """Runs `experiments/<script>` on one backend, 1 round of 1 step, into `results`; returns its parsed file.

    Fails the test, showing the script's stderr, if it exits non-zero.
    """
    args = ["--backends", backend, "--steps", "1", "--rounds", "1", "--results", str(results)]
    done = run_experiment(script, args, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(pathlib.Path(results).read_text())


def run_tuner(args, timeout=300, **extra_env):
    """Runs `run_tuner.py args` to completion; returns the CompletedProcess."""
    return run_experiment("run_tuner.py", args, timeout, **extra_env)


def start_tuner(args, log_path, **extra_env):
    """Starts `run_tuner.py args` in the background, output to `log_path`; returns the Popen."""
    log = open(log_path, "w")  # noqa: SIM115 (closed by the caller's process end)
    return subprocess.Popen(
        [sys.executable, RUN_TUNER, *args],
        stdout=log, stderr=subprocess.STDOUT, text=True, env=script_env(**extra_env),
    )  # fmt: skip


def run_cli(argv, capsys):
    """Runs `mnist-vit argv` in this process; returns `(exit_code, stdout, stderr)`."""
    from mnist_vit import cli

    try:
        cli.main([str(arg) for arg in argv])
        code = 0
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def on_reference_backend_only():
    """The marks of a finished study's tests: slow, and run on the reference backend's pass only.

    A study's own logic is the same on every backend (the main job's tests train and test on each), and
    CI runs the whole suite once per backend; a study that compares the backends runs them all itself.
    """
    import keras
    import pytest

    from mnist_vit.results import REFERENCE_BACKEND

    return [
        pytest.mark.slow,
        pytest.mark.skipif(
            keras.backend.backend() != REFERENCE_BACKEND,
            reason=f"a finished study: its tests run on the {REFERENCE_BACKEND} pass",
        ),
    ]
