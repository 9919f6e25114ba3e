"""experiments/studies/study_search.py: the search's trials, trained fully, beside their short scores."""

import json
from pathlib import Path

from run_script import on_reference_backend_only, run_experiment, run_tuner

from mnist_vit.training import final_run_dir

pytestmark = on_reference_backend_only()  # subprocesses

TINY = ["--search-epochs", "1", "--epochs", "1", "--train-sequences", "64", "--validation-sequences", "64"]


def test_the_study_trains_the_searchs_own_trials_and_measures_their_noise(tmp_path, mnist_path):
    study = tmp_path / "study"
    result = run_experiment(
        "studies/study_search.py",
        [
            *TINY,
            "--test-sequences",
            "50",
            "--configs",
            "3",
            "--noise-seeds",
            "3",
            "--data",
            mnist_path,
            "--out",
            str(study),
        ],
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((study / "results.json").read_text())
    # The configurations are those run_tuner.py proposes with the same seed, in its order.
    search = tmp_path / "search"
    proposed = run_tuner(
        ["--search-only", *TINY, "--trials", "3", "--data", mnist_path, "--out", str(search)]
    )
    assert proposed.returncode == 0, proposed.stderr[-3000:]
    trials = [
        json.loads(p.read_text()) for p in sorted((search / "search_random").glob("trial_*/trial.json"))
    ]
    assert [row["hyperparameters"] for row in results["configs"]] == [
        trial["hyperparameters"]["values"] for trial in trials
    ]
    for row in results["configs"]:
        run = Path(final_run_dir(study / f"config_{row['trial_id']}", "transformer", 0))
        assert (run / "test.json").is_file()
        assert 0.0 <= row["full_test"] <= 1.0
    assert len(results["defaults_search_scores"]) == 3  # the search's own trial and 2 more seeds
    assert results["suggested_margin"] >= 2 * results["defaults_search_score_std"]
    for value in results["rank_correlation"].values():
        assert value is None or -1.0 <= value <= 1.0
