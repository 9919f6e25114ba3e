"""The README's and findings' tables are what `experiments/update_readme.py` writes from the results."""

import importlib.util

import pytest
from run_script import EXPERIMENTS, ROOT


def load_update_readme():
    spec = importlib.util.spec_from_file_location("update_readme", EXPERIMENTS / "update_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UPDATE_README = load_update_readme()


def block(text, name):
    return text.split(f"<!-- {name}:start -->\n", 1)[1].split(f"\n<!-- {name}:end -->", 1)[0]


@pytest.mark.parametrize(
    "document, blocks",
    [
        (ROOT / "README.md", UPDATE_README.readme_blocks),
        (EXPERIMENTS / "findings.md", UPDATE_README.findings_blocks),
    ],
    ids=["README.md", "findings.md"],
)
def test_every_generated_block_matches_the_committed_results_files(document, blocks):
    text = document.read_text()
    expected = blocks()
    assert expected  # the committed results files exist
    for name, content in expected.items():
        assert block(text, name) == content, (
            f"{document.name} block {name!r}: run experiments/update_readme.py"
        )
