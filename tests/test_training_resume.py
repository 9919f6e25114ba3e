"""A training run killed with SIGKILL mid-epoch resumes after its last completed epoch."""

import csv
import json
import signal
import subprocess
import sys

import keras
import pytest
from run_script import ROOT, script_env

from mnist_vit.callbacks import read_history

pytestmark = pytest.mark.slow  # subprocesses

TRAIN_CLASSIFIER = str(ROOT / "experiments" / "train_classifier.py")
EPOCHS = 4


def history_epochs(path):
    with open(path) as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_sigkill_mid_epoch_then_same_command_resumes(tmp_path, mnist_path):
    out, results = tmp_path / "run", tmp_path / "classification.json"
    command = [
        sys.executable, TRAIN_CLASSIFIER, "--data", mnist_path, "--epochs", str(EPOCHS),
        "--train-images", "4000", "--batch-size", "32", "--out", str(out), "--results", str(results),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=script_env()
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("Epoch 3/"):  # epochs 1 and 2 are complete, epoch 3 has begun
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)[-2000:]
    assert not results.exists()
    assert (out / "backup").is_dir()
    assert history_epochs(out / "history.csv") == [0, 1]

    resumed = subprocess.run(command, capture_output=True, text=True, env=script_env(), timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Epoch 1/" not in resumed.stdout and "Epoch 3/" in resumed.stdout
    assert history_epochs(out / "history.csv") == list(range(EPOCHS))
    assert not (out / "backup").exists()
    # The time and the best epoch count the epochs of both processes.
    history = read_history(str(out))
    elapsed = history["elapsed_seconds"]
    assert elapsed == sorted(set(elapsed))  # counted on across the resume, not from 0 again
    written = json.loads(results.read_text())
    assert written["train_seconds"] == round(elapsed[-1], 1)
    cnn = written["models"]["cnn"]
    assert cnn["validation"]["accuracy"] == max(history["val_accuracy"])
    assert history["val_accuracy"][cnn["best_epoch"] - 1] == max(history["val_accuracy"])
    assert keras.saving.load_model(out / "best.keras").count_params() > 0
    assert not list(out.glob(".tmp-*"))


def test_a_finished_run_started_again_trains_from_scratch(tmp_path, mnist_path):
    out, results = tmp_path / "run", tmp_path / "classification.json"
    command = [
        sys.executable, TRAIN_CLASSIFIER, "--data", mnist_path, "--epochs", "2",
        "--train-images", "500", "--out", str(out), "--results", str(results),
    ]  # fmt: skip
    for _ in range(2):
        done = subprocess.run(command, capture_output=True, text=True, env=script_env(), timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Epoch 1/2" in done.stdout
    assert history_epochs(out / "history.csv") == [0, 1]
