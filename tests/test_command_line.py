"""mnist_vit.command_line: the checks every script runs before any work."""

import os

import pytest

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
