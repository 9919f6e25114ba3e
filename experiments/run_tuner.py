"""The main job: tune the attention model of a sequence task, then train and test it against its baselines.

The options are the fields of `mnist_vit.settings.Settings`; the job is
`mnist_vit.experiment.run_experiment` (its docstring says what it does).
The results file and figures go into the run folder (`--out`, default
`runs/<task>`), with TensorBoard logs (`tensorboard --logdir <out>`).
`--publish` replaces the committed results and figures of the backend that
runs instead: TensorFlow's are the reference; JAX's and PyTorch's are
`experiments/results/<backend>/` and `figures/<backend>/`. Running the same
command again resumes. Options, output paths and the data file are checked
before Keras is imported, so a mistake is reported at once and nothing is
written.

    python experiments/run_tuner.py --task sum --data ../shared/data/mnist.npz
"""

import sys

from mnist_vit.command_line import ArgumentParser, bounded_int, fraction, positive_int, run_main, seed_int
from mnist_vit.experiment import RESUME_HINT, run_experiment
from mnist_vit.settings import MAX_SEQUENCES, MIN_VALIDATION_SEQUENCES, PRESETS, TUNERS, Settings
from mnist_vit.tasks import task_names


def parse_args(argv=None):
    """The command line's `Settings`."""
    defaults = Settings()
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default=defaults.task, choices=task_names())
    parser.add_argument("--tuner", default=defaults.tuner, choices=TUNERS)
    parser.add_argument("--preset", default=defaults.preset, choices=PRESETS)
    parser.add_argument("--trials", type=positive_int, help="tuner trials")
    parser.add_argument("--search-epochs", type=positive_int, help="epochs per trial")
    parser.add_argument(
        "--search-margin",
        type=fraction,
        help="keep the defaults unless a trial's score beats theirs by more than this",
    )
    parser.add_argument("--epochs", type=positive_int, help="epochs of each final model")
    parser.add_argument(
        "--train-sequences", type=bounded_int(1, MAX_SEQUENCES), help="fresh training sequences per epoch"
    )
    parser.add_argument(
        "--train-pool",
        type=bounded_int(1, MAX_SEQUENCES),
        help="draw every epoch's training sequences from this many fixed ones (default: new every epoch)",
    )
    parser.add_argument(
        "--patience",
        type=positive_int,
        help="stop a final model once validation has not improved for this many epochs and test its best "
        "epoch (default: train every epoch, test the last)",
    )
    parser.add_argument("--seeds", type=positive_int, help="seeds of the final training runs")
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=defaults.seed,
        help="seed of the search; final runs use seed, seed+1, ...",
    )
    parser.add_argument("--batch-size", type=positive_int)
    parser.add_argument(
        "--validation-sequences",
        type=bounded_int(MIN_VALIDATION_SEQUENCES, MAX_SEQUENCES),
        default=defaults.validation_sequences,
        help="fixed validation sequences",
    )
    parser.add_argument(
        "--test-sequences",
        type=bounded_int(1, MAX_SEQUENCES),
        default=defaults.test_sequences,
        help="fixed test sequences of lengths 1..10 (the test at lengths 1..100 spreads as many over them)",
    )
    parser.add_argument("--search-only", action="store_true", help="stop after the search")
    parser.add_argument(
        "--data-parallel",
        action="store_true",
        help="train data-parallel on every local device (jax: keras.distribution.DataParallel, "
        "tensorflow: tf.distribute.MirroredStrategy)",
    )
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument(
        "--out", help="folder for tuner state, checkpoints, logs, results and figures (default runs/<task>)"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write the results file and figures over the committed ones of this backend "
        "(tensorflow: experiments/results/<task>.json and figures/; jax, torch: "
        "experiments/results/<backend>/<task>.json and figures/<backend>/)",
    )
    parser.add_argument(
        "--start-over",
        action="store_true",
        help="delete the run folder's search, final runs and clock, then run afresh (e.g. after "
        "changing settings)",
    )
    parser.add_argument("--results", help="results file (default <out>/results.json)")
    parser.add_argument("--figures", help="folder for figures (default <out>/figures)")
    return Settings(**vars(parser.parse_args(argv)))


def main(argv=None):
    """Runs the main job with the command line's settings; returns the exit code."""
    run_experiment(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, interrupted=RESUME_HINT))
