"""RunClock: a job's wall-clock time summed over the processes that ran it, kept safe from a kill."""

import json
import os
import time

import pytest

from mnist_vit.errors import UsageError
from mnist_vit.run_clock import RunClock, read_clock


def test_a_resumed_job_counts_on_from_its_earlier_processes(tmp_path):
    path = str(tmp_path / "clock.json")
    with RunClock(path) as first:
        time.sleep(0.2)
    assert read_clock(path)[1] == 1 and read_clock(path)[0] >= 0.2
    with RunClock(path) as second:
        time.sleep(0.1)
        assert second.seconds() >= read_clock(path)[0] + 0.1 - 0.05
    seconds, processes = read_clock(path)
    assert processes == 2 and seconds >= 0.3
    assert second.earlier == pytest.approx(first.seconds(), abs=0.1)


def test_the_count_is_saved_while_the_job_runs(tmp_path):
    path = str(tmp_path / "clock.json")
    with RunClock(path, interval=0.05):
        time.sleep(0.3)
        seconds, processes = read_clock(path)  # what a killed process would leave
        assert processes == 1 and 0.1 <= seconds <= 0.3


DAMAGED = [
    "not json", "[]", '{"seconds": 5}', '{"seconds": "x", "processes": 1}', '{"seconds": -1, "processes": 1}',
    '{"seconds": NaN, "processes": 1}', '{"seconds": 1e400, "processes": 1}',
    '{"seconds": 1, "processes": 1.5}',
]  # fmt: skip


@pytest.mark.parametrize("content", DAMAGED)
def test_a_damaged_clock_file_is_named_and_left_as_it_was(tmp_path, content):
    path = tmp_path / "clock.json"
    path.write_text(content)
    with pytest.raises(UsageError, match="clock.json is not a run clock; remove it"):
        RunClock(str(path))
    assert path.read_text() == content


def test_a_clock_that_is_a_folder_or_a_fifo_is_refused_without_blocking(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (folder, fifo):
        with pytest.raises(UsageError, match="not a regular file"):
            read_clock(str(path))


def test_no_clock_file_is_a_job_not_started(tmp_path):
    assert read_clock(str(tmp_path / "none.json")) == (0.0, 0)
    with RunClock(str(tmp_path / "none.json")):
        pass
    assert json.loads((tmp_path / "none.json").read_text())["processes"] == 1
