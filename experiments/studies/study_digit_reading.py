"""What makes a model that learns from sums only read each digit better: encoder width, epochs, augmentation.

A sum of L digits is exact with probability about p**L when a model reads
one digit right with probability p (`mnist_vit.digit_probe`), so p decides
the sum far beyond the trained lengths. This study trains the task's
searched model (`--model`) as the main job trains its final models (the
task's `cpu` preset, the hyperparameters that the committed main job's
search chose), changed by each variant of `VARIANTS` (`--variants`), with
`--seeds` seeds each, and reports per variant: p (the linear probe of the
frozen encoder), the exact accuracy over lengths 1-10, the exact accuracy at
lengths 20, 50 and 100 on `--long-sequences` fixed test sequences each, p**L
at those lengths, and the training time, which says whether the change fits
the main job's budget.

Every run resumes (finished runs are reused from their folders; the study's
folder records what decides them all, each variant's folder what the variant
changes, so a variant can be added later); `--publish` writes
`experiments/results/findings/digit_reading_<task>.json`.

    python experiments/studies/study_digit_reading.py --data ../shared/data/mnist.npz
"""

import dataclasses
import os

from harness import (
    committed_hyperparameters,
    run_study,
    study_outputs,
    study_parser,
    study_results,
    study_settings,
    tested_once,
)

from mnist_vit.backends import import_keras
from mnist_vit.command_line import bounded_int, run_main
from mnist_vit.errors import UsageError
from mnist_vit.experiment import RESUME_HINT, train_and_test
from mnist_vit.results import summarize, with_std
from mnist_vit.run_clock import RunClock
from mnist_vit.settings import MAX_SEQUENCES, PUBLISHED_RESULTS
from mnist_vit.tasks import get_task, task_names

BUDGET = ("epochs", "train_sequences", "validation_sequences", "test_sequences")
LENGTHS = (20, 50, 100)  # the lengths far beyond training at which the sum is tested


@dataclasses.dataclass(frozen=True)
class Variant:
    """A change to the main job's final training.

    Attributes:
        changes: dict. Hyperparameters (`Hyperparameters.from_dict` keys) that
            replace the searched ones.
        epochs_factor: int. Train for this many times the preset's epochs.
    """

    changes: dict = dataclasses.field(default_factory=dict)
    epochs_factor: int = 1


VARIANTS = {
    "searched": Variant(),
    "wider_encoder": Variant({"filters": [32, 64]}),
    "wider_embedding": Variant({"embed_dim": 128}),
    "no_augmentation": Variant({"augment": False}),
    "twice_the_epochs": Variant(epochs_factor=2),
}


def parse_args(argv=None):
    parser = study_parser(
        __doc__.splitlines()[0], BUDGET, "experiments/results/findings/digit_reading_<task>.json"
    )
    parser.add_argument("--model", help="the model to train (default: the one the search tunes)")
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), help="the changes to try"
    )
    parser.add_argument("--seeds", type=bounded_int(1, 100), default=3, help="training seeds 0, 1, ...")
    parser.add_argument(
        "--long-sequences",
        type=bounded_int(1, MAX_SEQUENCES),
        default=1000,
        help=f"test sequences at each of the lengths {', '.join(map(str, LENGTHS))}",
    )
    args = parser.parse_args(argv)
    import_keras()  # quietly, before the tasks' modules import it
    digit_tasks = [name for name in task_names() if get_task(name).digit_probe]
    if args.task not in digit_tasks:
        raise UsageError(f"task {args.task} has no digit probe; the study takes {', '.join(digit_tasks)}")
    task = get_task(args.task)
    args.model = task.check_model(args.model) if args.model else task.searched_model
    if not task.models[args.model].any_length:
        raise UsageError(f"the {args.model} model takes only lengths 1..10; the study tests lengths to 100")
    name = f"digit_reading_{args.task}"
    return study_outputs(args, name, os.path.join(PUBLISHED_RESULTS, "findings", f"{name}.json"))


def made_by(task, args):
    """What decides every variant's runs: the preset's budget, the searched hyperparameters, the
    long-length test. The variants, model and seeds asked for only pick the runs; what a variant changes
    decides its own folder's runs (`variant_folder`), so a new variant leaves the others' runs valid."""
    return study_settings(args, task, BUDGET), {
        "hyperparameters": committed_hyperparameters(task).to_dict(),
        "long_sequences": args.long_sequences,
    }


def variant_folder(out, name):
    """`<out>/<name>` claimed as a `RunFolder` made with what `VARIANTS[name]` changes: redefining a
    variant whose runs exist is refused by name instead of reusing runs made otherwise."""
    from mnist_vit.run_folder import RunFolder

    folder = os.path.join(out, name)
    remedy = f"give the new definition another name, or delete {folder} to train it again"
    return RunFolder(folder, dataclasses.asdict(VARIANTS[name]), remedy=remedy)


def at_lengths(task, run_dir, split, sequences):
    """The run's headline at each of `LENGTHS` on `sequences` fixed test sequences each, cached in run_dir."""
    from mnist_vit.training import FINAL_MODEL, long_length_accuracy

    return tested_once(
        run_dir,
        FINAL_MODEL,
        "at_lengths.json",
        lambda model: long_length_accuracy(task, model, split, sequences, LENGTHS),
    )


def study(task, args, splits):
    """Trains (or reuses) every variant's seeds; returns the results dict."""
    from mnist_vit.digit_probe import reader_limit
    from mnist_vit.hyperparameters import Hyperparameters
    from mnist_vit.training import final_run_dir

    searched = committed_hyperparameters(task).to_dict()
    base = study_settings(args, task, BUDGET)
    variants = {}
    with RunClock(os.path.join(args.out, "clock.json")) as clock:
        for name in args.variants:
            variant = VARIANTS[name]
            hyperparameters = Hyperparameters.from_dict({**searched, **variant.changes})
            rows = []
            with variant_folder(args.out, name) as folder:
                out, epochs = folder.folder, base.epochs * variant.epochs_factor
                settings = dataclasses.replace(base, out=out, epochs=epochs)
                for seed in range(args.seeds):
                    metrics = train_and_test(task, args.model, hyperparameters, splits, settings, seed)
                    run_dir = final_run_dir(settings.out, args.model, seed)
                    lengths = at_lengths(task, run_dir, splits["test"], args.long_sequences)
                    rows.append(
                        {
                            "digit_probe_accuracy": metrics["digit_probe_accuracy"],
                            task.headline: metrics[task.headline],
                            f"{task.headline}_at_length": lengths,
                            "train_seconds": metrics["train_seconds"],
                        }
                    )
            test = summarize(rows)
            variants[name] = {
                "changes": variant.changes,
                "epochs": settings.epochs,
                "per_seed": rows,
                "test": test,
                "reader_limit": reader_limit(test["digit_probe_accuracy"], LENGTHS),
            }
            at = ", ".join(
                f"@{length} {with_std(test, f'{task.headline}_at_length', 3, str(length))}"
                for length in LENGTHS
            )
            print(
                f"{name}: p {with_std(test, 'digit_probe_accuracy')}, {task.headline} "
                f"{with_std(test, task.headline)}, {at}, {test['train_seconds']:.0f} s a run",
                flush=True,
            )
        seconds = clock.seconds()
    described = {
        "model": args.model,
        "seeds": list(range(args.seeds)),
        "long_sequences": args.long_sequences,
        "hyperparameters": f"the searched ones of experiments/results/{task.name}.json, then each change",
    }
    return study_results(task, seconds, base, described, variants=variants)


def main(argv=None):
    args = parse_args(argv)
    run_study(args, study, made_by)
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    run_main(main, interrupted=RESUME_HINT)
