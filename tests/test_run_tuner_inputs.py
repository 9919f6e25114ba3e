"""Bad input to run_tuner.py: one clear line, exit code 2, before any training."""

import os
import stat

import pytest
from run_script import TINY_ANCHOR_RUN, run_tuner

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
        (["--patience", "0"], ["--patience", "positive integer, got 0"]),
        (["--seeds", "many"], ["--seeds", "'many'"]),
        (["--search-epochs", "1.5"], ["--search-epochs", "'1.5'"]),
        (["--seed", "-1"], ["--seed", "0..2,147,483,647, got -1"]),
        (["--seed", "4294967296"], ["--seed", "got 4,294,967,296"]),
        (["--search-margin", "nan"], ["--search-margin", "got nan"]),
        (["--search-margin", "inf"], ["--search-margin", "got inf"]),
        (["--results", ""], ["results file is an empty path"]),
    ],
)
def test_bad_options(tmp_path, args, fragments):
    result = run_tuner([*args, "--out", str(tmp_path / "out")])
    check_one_line_error(result, *fragments)
    assert not (tmp_path / "out").exists()


def test_an_empty_out_is_refused(tmp_path):
    check_one_line_error(run_tuner(["--out", ""]), "run folder is an empty path")


def test_seeds_past_the_largest_are_refused_before_anything_is_written(tmp_path, mnist_path):
    result = run_tuner(
        ["--seed", "2147483647", "--seeds", "2", "--data", mnist_path, "--out", str(tmp_path / "o")]
    )
    check_one_line_error(result, "--seed 2147483647 with --seeds 2 needs seeds up to 2,147,483,648")
    assert os.listdir(tmp_path) == []


def special_outputs(tmp_path):
    """`{case: (options, fragment)}`: output paths that are folders, devices or pipes where files go."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a_file").write_text("")
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "sum_training.png").mkdir()
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    os.mkfifo(pipes / "sum_examples.png")
    return {
        "results is a device": (["--results", os.devnull], "not a regular file"),
        "results is a pipe": (["--results", str(tmp_path / "pipe")], "not a regular file"),
        "out is a pipe": (["--out", str(tmp_path / "pipe")], "is not a folder"),
        "figures is a file": (["--figures", str(tmp_path / "a_file")], "is not a folder"),
        "a figure is a folder": (["--figures", str(figures)], "sum_training.png is a folder"),
        "a figure is a pipe": (["--figures", str(pipes)], "sum_examples.png is not a regular file"),
    }


def test_output_paths_that_are_not_regular_files_are_refused_before_any_work(tmp_path, mnist_path):
    for case, (options, fragment) in special_outputs(tmp_path).items():
        before = sorted(os.listdir(tmp_path))
        result = run_tuner(["--data", mnist_path, "--out", str(tmp_path / "out"), *options])
        check_one_line_error(result, fragment)
        assert sorted(os.listdir(tmp_path)) == before, case
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode) and stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)


def test_a_refused_command_leaves_no_empty_folder(tmp_path):
    result = run_tuner(["--data", str(tmp_path / "no.npz"), "--out", str(tmp_path / "new" / "deep" / "run")])
    check_one_line_error(result, "no.npz")
    assert os.listdir(tmp_path) == []


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


def test_a_successful_run_leaves_stderr_empty(tmp_path, mnist_path):
    argv = [*TINY_ANCHOR_RUN, "--data", mnist_path, "--out", str(tmp_path / "o")]
    result = run_tuner(argv, TF_CPP_MIN_LOG_LEVEL="")
    assert result.returncode == 0 and "wrote" in result.stdout
    assert result.stderr == ""
