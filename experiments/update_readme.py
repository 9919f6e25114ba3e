"""Regenerates the tables of README.md and docs/ from the committed results files.

Rewrites the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`:
README.md's `answer` and `results` blocks are the main job's tables
(`mnist_vit.results_table`), its `learning-curves` block and the blocks of
docs/performance.md and docs/findings.md are the studies' and benchmarks'
tables (`experiments/studies/tables.py`).

    python experiments/update_readme.py           # rewrite the blocks
    python experiments/update_readme.py --check   # exit 1, naming each block that is out of date
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "studies"))
from tables import findings_blocks, learning_curve_blocks, performance_blocks  # noqa: E402 (the studies' folder)

from mnist_vit.backends import import_keras  # noqa: E402
from mnist_vit.report import replace_block  # noqa: E402
from mnist_vit.results_table import readme_blocks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Each document (relative to the checkout) and the function that gives its blocks.
DOCUMENTS = {
    "README.md": lambda: {**readme_blocks(), **learning_curve_blocks()},
    "docs/performance.md": performance_blocks,
    "docs/findings.md": findings_blocks,
}


def updated(document, text, blocks):
    """`(text with blocks ({name: text}) in place, [names of the blocks that changed])`.

    Raises:
        ValueError: naming `document` and a block that `text` lacks.
    """
    changed = []
    for name, block in blocks.items():
        try:
            new = replace_block(text, name, block)
        except ValueError as error:
            raise ValueError(f"{document} {error}") from None
        changed += [f"{document} block {name!r}"] if new != text else []
        text = new
    return text, changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a block is not what the results give"
    )
    args = parser.parse_args(argv)
    import_keras()  # the tasks' modules import Keras; this keeps its start-up lines quiet
    stale = []
    try:
        for document, blocks in DOCUMENTS.items():
            path = os.path.join(ROOT, document)
            with open(path) as f:
                text, changed = updated(document, f.read(), blocks())
            stale += changed
            if changed and not args.check:
                with open(path, "w") as f:
                    f.write(text)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if stale and args.check:
        print(
            f"error: {', '.join(stale)}: out of date with experiments/results/; run "
            "python experiments/update_readme.py",
            file=sys.stderr,
        )
        return 1
    print(f"{'checked' if args.check else 'updated'} {', '.join(DOCUMENTS)} from experiments/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
