"""Running the command line and the experiment scripts as a user would."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
RUN_TUNER = str(EXPERIMENTS / "run_tuner.py")

# A search small enough for a test on any backend.
TINY_SEARCH = [
    "--search-only", "--search-epochs", "1", "--train-sequences", "64",
    "--validation-sequences", "64", "--batch-size", "32",
]  # fmt: skip
# A whole run of the anchor task (search, two models, one seed of two epochs) small enough for a test.
TINY_ANCHOR_RUN = [
    "--task", "anchor", "--trials", "1", "--search-epochs", "1", "--epochs", "2", "--train-sequences", "64",
    "--validation-sequences", "64", "--test-sequences", "50", "--batch-size", "32", "--seeds", "1",
]  # fmt: skip


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


def load_run_tuner():
    """`experiments/run_tuner.py` as a module (its `main(argv)` runs the job in this process)."""
    spec = importlib.util.spec_from_file_location("run_tuner", RUN_TUNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
