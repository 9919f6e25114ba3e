"""A run's figures beside the committed reference: agreement within twice the reference's spread."""

import json

from run_script import EXPERIMENTS, ROOT

from mnist_vit.experiment import compare_with_reference
from mnist_vit.settings import Settings
from mnist_vit.tasks import get_task


def test_each_key_figure_is_compared_with_the_references_spread(tmp_path):
    reference = tmp_path / "sum.json"
    reference.write_text(
        json.dumps(
            {
                "backend": "tensorflow",
                "settings": {"seeds": 3},
                "models": {
                    "transformer": {
                        "test": {
                            "exact_accuracy": 0.970,
                            "exact_accuracy_std": 0.005,
                            "mse": 0.35,
                            "mse_std": 0.02,
                        }
                    },
                    "fc": {
                        "test": {
                            "exact_accuracy": 0.25,
                            "exact_accuracy_std": 0.0,
                            "mse": 4.0,
                            "mse_std": 0.0,
                        }
                    },
                },
            }
        )
    )
    mine = {
        "transformer": {
            "test": {"exact_accuracy": 0.962, "exact_accuracy_std": 0.003, "mse": 0.38, "mse_std": 0.01}
        },
        "fc": {"test": {"exact_accuracy": 0.24, "exact_accuracy_std": 0.01, "mse": 4.1, "mse_std": 0.1}},
        "deepsets": {"test": {"exact_accuracy": 0.96, "exact_accuracy_std": 0.0, "mse": 0.4, "mse_std": 0.0}},
    }
    lines = compare_with_reference(get_task("sum"), mine, str(reference))
    assert lines[0].endswith("(tensorflow, 3 seed(s)):")
    # The reference's three fc seeds all gave the same figures: only those figures agree with them.
    assert lines[1:] == [
        "  transformer exact_accuracy: 0.9620 ± 0.0030, reference 0.9700 ± 0.0050: agrees within 2 std",
        "  transformer mse: 0.3800 ± 0.0100, reference 0.3500 ± 0.0200: agrees within 2 std",
        "  fc exact_accuracy: 0.2400 ± 0.0100, reference 0.2500 ± 0: differs by more than 2 std",
        "  fc mse: 4.1000 ± 0.1000, reference 4.0000 ± 0: differs by more than 2 std",
    ]
    mine["transformer"]["test"]["exact_accuracy"] = 0.958  # 0.012 below: more than 2 x 0.005
    mine["fc"]["test"]["exact_accuracy"] = 0.25
    lines = compare_with_reference(get_task("sum"), mine, str(reference))
    assert lines[1].endswith("differs by more than 2 std")
    assert lines[3].endswith("reference 0.2500 ± 0: agrees within 2 std")


def test_a_one_seed_reference_has_no_spread_to_compare_with(tmp_path):
    reference = tmp_path / "sum.json"
    test = {"exact_accuracy": 0.970, "exact_accuracy_std": 0.0, "mse": 0.35, "mse_std": 0.0}
    models = {"transformer": {"test": test}}
    reference.write_text(json.dumps({"backend": "tensorflow", "settings": {"seeds": 1}, "models": models}))
    lines = compare_with_reference(get_task("sum"), models, str(reference))
    one_seed = "the reference has one seed: no spread to compare with"
    assert lines[1:] == [
        "  transformer exact_accuracy: 0.9700, reference 0.9700: " + one_seed,
        "  transformer mse: 0.3500, reference 0.3500: " + one_seed,
    ]


def test_without_a_reference_file_nothing_is_compared(tmp_path):
    assert compare_with_reference(get_task("sum"), {}, str(tmp_path / "none.json")) == []


def test_publishing_replaces_only_the_running_backends_committed_files():
    for backend, results, figures in [
        ("tensorflow", EXPERIMENTS / "results" / "sum.json", ROOT / "figures"),
        ("torch", EXPERIMENTS / "results" / "torch" / "sum.json", ROOT / "figures" / "torch"),
    ]:
        settings = Settings(task="sum", publish=True).with_paths(backend)
        assert (settings.results, settings.figures) == (str(results), str(figures))
    assert Settings(task="sum", publish=True, results="mine.json").with_paths("jax").results == "mine.json"
    unpublished = Settings(task="anchor").with_paths()
    assert (unpublished.out, unpublished.results) == ("runs/anchor", "runs/anchor/results.json")
