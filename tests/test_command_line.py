"""mnist_vit.command_line: the checks every script runs before any work."""

import os
import subprocess
import sys
import tempfile
import time

import pytest

from mnist_vit import command_line
from mnist_vit.command_line import check_writable
from mnist_vit.errors import UsageError


def test_check_writable_leaves_no_folder_or_file_behind(tmp_path):
    folder = tmp_path / "new" / "out"
    check_writable(str(folder))
    assert os.listdir(tmp_path) == []
    (tmp_path / "kept").mkdir()
    check_writable(str(tmp_path / "kept"))
    assert os.listdir(tmp_path) == ["kept"] and os.listdir(tmp_path / "kept") == []


def test_check_writable_refuses_a_path_under_a_file_and_an_empty_path(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not writable"):
        check_writable(str(tmp_path / "file" / "out"))
    with pytest.raises(UsageError, match="empty path"):
        check_writable("")
    assert os.listdir(tmp_path) == ["file"]


def test_check_writable_does_not_touch_another_process_s_probe(tmp_path):
    # Distributed tuning: workers check one shared folder at once; a probe
    # another process holds must neither block this check nor be removed by it.
    others = tmp_path / ".write-test"
    others.mkdir()
    (tmp_path / ".write-test-other").write_text("")
    check_writable(str(tmp_path))
    assert others.is_dir() and (tmp_path / ".write-test-other").exists()
    assert sorted(os.listdir(tmp_path)) == [".write-test", ".write-test-other"]


def test_check_writable_names_a_folder_it_cannot_create(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="a_file/out is not writable"):
        check_writable(str(blocker / "out"))


def test_check_writable_tries_again_when_another_check_removes_the_new_folder(tmp_path, monkeypatch):
    # Distributed tuning: a chief and its workers start on one missing --out.
    # Another process's check can remove the folder between this one's
    # makedirs and its probe; that is not an unwritable folder.
    folder = tmp_path / "new" / "out"
    real_probe = tempfile.NamedTemporaryFile
    removals = []

    def probe_after_the_other_check_cleaned_up(**kwargs):
        if len(removals) < 2:
            os.rmdir(folder)
            os.rmdir(folder.parent)
            removals.append(folder)
        return real_probe(**kwargs)

    monkeypatch.setattr(command_line.tempfile, "NamedTemporaryFile", probe_after_the_other_check_cleaned_up)
    check_writable(str(folder))
    assert len(removals) == 2 and os.listdir(tmp_path) == []


CHECK_FOR_A_WHILE = """
import sys, time
from mnist_vit.command_line import check_writable
from mnist_vit.errors import UsageError
folder, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
failures = 0
while time.time() < start + 0.5:
    try:
        check_writable(folder)
    except UsageError as error:
        failures += 1
        message = str(error)
if failures:
    sys.exit(f"{failures} checks failed, the last: {message}")
"""


@pytest.mark.slow
def test_check_writable_in_processes_started_together_on_one_missing_folder(tmp_path):
    # Each process checks the folder again and again for half a second, all at once.
    folder = str(tmp_path / "shared" / "out")
    start = time.time() + 1.0  # after every process has started
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CHECK_FOR_A_WHILE, folder, str(start)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, errors
    assert os.listdir(tmp_path) in ([], ["shared"])  # a folder removed while another check made it may stay
