"""study_backend_drift.py: one model, the same weights, trained step by step on every backend."""

import json

import pytest
from run_script import on_reference_backend_only, run_experiment

from mnist_vit.backends import installed_backends

pytestmark = on_reference_backend_only()  # subprocesses

STEPS = 4


def test_every_backend_and_the_control_train_the_same_steps(tmp_path, mnist_path):
    results = tmp_path / "drift.json"
    args = [
        "--steps",
        str(STEPS),
        "--data",
        mnist_path,
        "--out",
        str(tmp_path / "out"),
        "--results",
        str(results),
    ]
    done = run_experiment("studies/study_backend_drift.py", args, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(results.read_text())["results"]
    backends = list(installed_backends())
    assert [(run["backend"], run["env"]) for run in runs] == [(name, {}) for name in backends] + [
        ("tensorflow", {"TF_ENABLE_ONEDNN_OPTS": "0"})
    ]
    reference = runs[backends.index("tensorflow")]["losses"]
    for run in runs:
        assert len(run["losses"]) == STEPS
        for tolerance, step in run["first_step_apart"].items():
            apart = [
                abs(a - b) > float(tolerance) * abs(b) for a, b in zip(run["losses"], reference, strict=True)
            ]
            assert step == (apart.index(True) + 1 if any(apart) else None)
        # Same weights, same batch, no randomness: the first step's loss is one computation everywhere.
        assert run["losses"][0] == pytest.approx(reference[0], rel=1e-5)
        assert run["losses"][-1] < run["losses"][0]  # and every run learns


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--backends", "jax", "torch"], "--backends must include tensorflow"),
        (["--task", "anchor", "--model", "rnn"], "'rnn' is not a model of task anchor"),
        (["--data", "/nonexistent/mnist.npz"], "MNIST file not found"),
        (["--steps", "10001"], "--steps: expected a whole number in 1..10,000"),
    ],
)
def test_an_impossible_choice_is_one_clear_error(tmp_path, mnist_path, args, fragment):
    results = tmp_path / "drift.json"
    done = run_experiment(
        "studies/study_backend_drift.py", ["--data", mnist_path, *args, "--results", str(results)]
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], done.stderr
    assert not results.exists()
