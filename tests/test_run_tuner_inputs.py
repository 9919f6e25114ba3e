"""Bad input to run_tuner.py: one clear line, exit code 2, before any training."""

import pytest
from run_script import run_tuner

pytestmark = pytest.mark.slow  # subprocesses


def check_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Search: Running Trial" not in result.stdout


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--task", "product"], ["--task", "product"]),
        (["--tuner", "grid"], ["--tuner", "grid"]),
        (["--trials", "0"], ["--trials", "positive integer, got 0"]),
        (["--epochs", "-3"], ["--epochs", "got -3"]),
        (["--seeds", "many"], ["--seeds", "'many'"]),
        (["--search-epochs", "1.5"], ["--search-epochs", "'1.5'"]),
    ],
)
def test_bad_options(tmp_path, args, fragments):
    result = run_tuner([*args, "--out", str(tmp_path / "out")])
    check_one_line_error(result, *fragments)
    assert not (tmp_path / "out").exists()


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_tuner(["--out", str(blocker / "out")])
    check_one_line_error(result, "not writable", str(blocker / "out"))


def test_data_path_that_does_not_load(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_text("garbage")
    result = run_tuner(["--data", str(bad), "--out", str(tmp_path / "out"), "--figures", str(tmp_path)])
    check_one_line_error(result, str(bad), "not a readable .npz")
    assert not any((tmp_path / "out").rglob("*.json"))


def test_a_damaged_run_clock_is_named_before_any_work(tmp_path, mnist_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "clock.json").write_text('{"seconds": -5, "processes": 1}')
    result = run_tuner(["--data", mnist_path, "--out", str(out)])
    check_one_line_error(result, str(out / "clock.json"), "is not a run clock; remove it")
    assert (out / "clock.json").read_text() == '{"seconds": -5, "processes": 1}'
