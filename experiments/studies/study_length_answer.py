"""What a model that only counts its images can score: the best answer from the sequence's length alone.

A model that reads no digit but knows how many images a sequence holds can do
no better than give, at each length, the answer most frequent among the
sequences of that length. On ascents, where the count grows with the length,
that answer is far above a single constant one. This study computes it on the
main job's own test sequences (the task's `cpu` preset, the fixed test seed),
length by length, with the task's test metrics: the level against which a
model's by-length figures in `experiments/results/<task>.json` show whether it
learned anything from the images. It trains nothing and takes seconds.

The results file goes into `<out>/results.json`; `--publish` writes
`experiments/results/findings/length_answer_<task>.json`.

    python experiments/studies/study_length_answer.py --task ascents --data ../shared/data/mnist.npz
"""

import os

from harness import answers_without_images, run_study, study_outputs, study_parser, study_settings

from mnist_vit.command_line import run_main
from mnist_vit.results import run_metadata
from mnist_vit.settings import PUBLISHED_RESULTS

BUDGET = ("test_sequences",)  # shrinks the study for tests; the preset's value otherwise


def parse_args(argv=None):
    parser = study_parser(
        __doc__.splitlines()[0], BUDGET, "experiments/results/findings/length_answer_<task>.json"
    )
    parser.set_defaults(task="ascents")
    args = parser.parse_args(argv)
    name = f"length_answer_{args.task}"
    return study_outputs(args, name, os.path.join(PUBLISHED_RESULTS, "findings", f"{name}.json"))


def study(task, args, splits):
    """The best answer at each length and what it scores; returns the results dict."""
    settings = study_settings(args, task, BUDGET)
    by_length = answers_without_images(task, splits["test"], settings.test_sequences, per_length=True)
    constant = answers_without_images(task, splits["test"], settings.test_sequences)
    headline = task.headline
    scores = by_length["test"][f"{headline}_by_length"]
    for length, answer in by_length["answer"].items():
        print(f"length {length}: answer {answer:g} scores {scores[length]:.4f}")
    return {
        "task": task.name,
        **run_metadata(),
        "settings": {"test_sequences": settings.test_sequences},
        "headline": headline,
        "by_length": by_length,
        "constant_answer": constant,
    }


def main(argv=None):
    args = parse_args(argv)
    results = run_study(args, study)
    headline = results["headline"]
    print(
        f"{headline}: {results['by_length']['test'][headline]:.4f} from the length alone, "
        f"{results['constant_answer']['test'][headline]:.4f} from one answer for every sequence"
    )
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    run_main(main)
