"""run_tuner.py's search: per-trial TensorBoard logs, resume after a real kill, distributed tuning."""

import json
import socket
import time

import pytest
from run_script import TINY_SEARCH, run_tuner, start_tuner

pytestmark = pytest.mark.slow  # subprocesses


def trial_states(project_dir):
    """`{trial_id: status}` of the trials KerasTuner saved in `project_dir`."""
    states = {}
    for path in sorted(project_dir.glob("trial_*/trial.json")):
        trial = json.loads(path.read_text())
        states[trial["trial_id"]] = trial["status"]
    return states


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scalar_tags(event_dir):
    """Scalar names in the TensorBoard event files under `event_dir`, read with TensorBoard's reader."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(str(event_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    return set(tags.get("scalars", [])) | set(tags.get("tensors", []))


def test_killed_search_resumes_and_every_trial_logs_to_tensorboard(tmp_path, mnist_path):
    out = tmp_path / "out"
    args = [*TINY_SEARCH, "--trials", "3", "--data", mnist_path, "--out", str(out)]
    log = tmp_path / "first.log"
    process = start_tuner(args, log)
    try:
        wait_for(lambda: "finished: score" in log.read_text() or process.poll() is not None, 240, "trial 1")
    finally:
        process.kill()  # SIGKILL: no chance to clean up
        process.wait()
    project = out / "search_random"
    first = trial_states(project)
    completed_first = {t for t, status in first.items() if status == "COMPLETED"}
    assert 1 <= len(completed_first) < 3, log.read_text()
    saved = {t: (project / f"trial_{t}" / "trial.json").read_text() for t in completed_first}

    result = run_tuner(args)
    assert result.returncode == 0, result.stderr[-3000:]
    states = trial_states(project)
    assert len(states) == 3 and set(states.values()) == {"COMPLETED"}
    for trial_id, text in saved.items():  # kept, not retrained
        assert (project / f"trial_{trial_id}" / "trial.json").read_text() == text
        assert f"trial {trial_id} finished" not in result.stdout

    for trial_id in states:
        run_dir = out / "logs" / "search" / trial_id / "execution0"
        assert {"epoch_loss", "epoch_exact_accuracy"} <= scalar_tags(run_dir / "train")
        assert {"epoch_loss", "epoch_exact_accuracy"} <= scalar_tags(run_dir / "validation")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_distributed_search_with_a_chief_and_two_workers(tmp_path, mnist_path):
    out = tmp_path / "shared"
    args = [*TINY_SEARCH, "--trials", "4", "--data", mnist_path, "--out", str(out)]
    port = str(free_port())

    def start(tuner_id, suffix=""):
        env = {"KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": "127.0.0.1",
               "KERASTUNER_ORACLE_PORT": port}  # fmt: skip
        return start_tuner(args, tmp_path / f"{tuner_id}{suffix}.log", **env)

    chief = start("chief")
    workers = {}
    try:
        time.sleep(2)
        workers = {name: start(name) for name in ("worker0", "worker1")}
        logs = {name: tmp_path / f"{name}.log" for name in workers}
        # Kill a worker in the middle of a trial, once it has finished one: whichever gets there first
        # (on two busy cores one worker may still be compiling when the other is done).
        wait_for(
            lambda: any("finished: score" in log.read_text() for log in logs.values()),
            600,
            "a worker's first trial",
        )
        killed = next(name for name, log in logs.items() if "finished: score" in log.read_text())
        other = "worker1" if killed == "worker0" else "worker0"
        wait_for(lambda: logs[killed].read_text().count("started") >= 2, 120, f"{killed}'s second trial")
        workers[killed].kill()
        workers[killed].wait()
        # The other is not stalled: it finishes the remaining trials and exits.
        assert workers[other].wait(timeout=600) == 0, logs[other].read_text()[-3000:]
        # The killed worker, restarted with the same id, completes the trial it was running.
        workers[killed] = start(killed, suffix="-restarted")
        restarted_log = tmp_path / f"{killed}-restarted.log"
        assert workers[killed].wait(timeout=300) == 0, restarted_log.read_text()[-3000:]
        assert chief.wait(timeout=120) == 0, (tmp_path / "chief.log").read_text()[-3000:]
    finally:
        for process in (chief, *workers.values()):
            if process.poll() is None:
                process.kill()
    states = trial_states(out / "search_random")
    assert len(states) == 4 and set(states.values()) == {"COMPLETED"}
    finished_by_other = logs[other].read_text().count("finished: score")
    finished_by_killed = sum(
        (tmp_path / f"{killed}{s}.log").read_text().count("finished: score") for s in ("", "-restarted")
    )
    assert finished_by_other >= 1 and finished_by_killed >= 2
    assert finished_by_other + finished_by_killed == 4


def test_the_same_seed_proposes_the_same_trials_in_fresh_processes(tmp_path, mnist_path):
    proposed = []
    for run, margin in (("first", "0"), ("second", "1")):
        out = tmp_path / run
        result = run_tuner(
            [
                *TINY_SEARCH,
                "--trials",
                "3",
                "--search-margin",
                margin,
                "--data",
                mnist_path,
                "--out",
                str(out),
            ]
        )  # the default seed, 0
        assert result.returncode == 0, result.stderr[-3000:]
        trials = [
            json.loads(p.read_text()) for p in sorted((out / "search_random").glob("trial_*/trial.json"))
        ]
        proposed.append([trial["hyperparameters"]["values"] for trial in trials])
    assert len(proposed[0]) == 3 and proposed[0] == proposed[1]
    assert proposed[0][1] != proposed[0][2]  # the oracle's own trials, not repeated defaults
    # A margin of 1 (every score is in 0..1) keeps the defaults, the first trial.
    assert f"chosen: trial {trials[0]['trial_id']} (search margin 1.0)" in result.stdout
