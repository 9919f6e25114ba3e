"""Do a trained Deep Sets model's pooled features hold the digit histogram? A linear read-out, seed by seed.

MNIST has ten classes, so a sequence's digit histogram (how many of each digit
it holds) decides every set task: a Deep Sets model whose pooled features
(its `pooled` layer, the masked sum of phi over the real slots; for a model
that reads each slot as a distribution over ten digit classes, its
`digit_logits` layer, the sum of those distributions) hold that
histogram can answer any of them as well as attention can. This study reads
a finished main-job run (`--run`, default `runs/<task>`): for each seed's
trained Deep Sets model it fits a least-squares linear map from the pooled
features to the histogram on half of the fixed test sequences and reads the
other half, reporting the share of sequences whose whole histogram is read
right (every count rounded to the true one) and the share of counts read
right. The same read-out of an untrained model of the same shape (fresh
weights, seeded) is the control: what the architecture alone gives.

The results file goes into the run folder (`<run>/histogram.json`);
`--publish` writes `experiments/results/findings/histogram_<task>.json`.

    python experiments/run_tuner.py --task distinct --data ../shared/data/mnist.npz
    python experiments/studies/study_histogram.py --task distinct --data ../shared/data/mnist.npz
"""

import numpy as np
from harness import (
    finished_models,
    finished_run_outputs,
    finished_run_parser,
    read_finished_model,
    run_study,
    test_sequences,
)

from mnist_vit.command_line import run_main
from mnist_vit.errors import UsageError
from mnist_vit.results import run_metadata, summarize
from mnist_vit.tasks import POOLING, task_names

DIGITS = 10
POOLED_LAYER = "pooled"
DIGIT_LAYER = "digit_logits"  # (batch, slots, 10): each slot's digit-class logits


def parse_args(argv=None):
    parser = finished_run_parser(__doc__.splitlines()[0], "histogram")
    parser.add_argument("--task", default="distinct", choices=task_names())
    return finished_run_outputs(parser.parse_args(argv), "histogram")


def histograms(digits, mask):
    """How many of each digit the real slots hold: int `(n, 10)` from digits and mask `(n, slots)`."""
    return ((digits[:, :, None] == np.arange(DIGITS)) & mask[:, :, None]).sum(axis=1)


def linear_readout(features, targets):
    """Least squares from `features` `(n, d)` and a bias to `targets` `(n, k)`, fit on half, read on half.

    Returns:
        dict: `exact_histogram`, the share of held-out rows whose every
        rounded output equals its target, and `count_accuracy`, the share of
        held-out entries rounded right.
    """
    features = np.concatenate([features, np.ones((len(features), 1))], axis=1).astype("float64")
    half = len(features) // 2
    weights, *_ = np.linalg.lstsq(features[:half], targets[:half], rcond=None)
    right = np.round(features[half:] @ weights) == targets[half:]
    return {"exact_histogram": float(right.all(axis=1).mean()), "count_accuracy": float(right.mean())}


def pooled_features(model, batches, mask):
    """`(n, features)`: the model's `pooled` layer, else the sum of its real slots' digit distributions.

    Raises:
        UsageError: the model has neither layer.
    """
    import keras

    names = {layer.name for layer in model.layers}
    name = next((name for name in (POOLED_LAYER, DIGIT_LAYER) if name in names), None)
    if name is None:
        raise UsageError(f"the model {model.name} has neither a {POOLED_LAYER!r} nor a {DIGIT_LAYER!r} layer")
    features = keras.Model(model.inputs, model.get_layer(name).output).predict(batches, verbose=0)
    features = np.asarray(features, dtype="float64")
    if name == POOLED_LAYER:
        return features
    shifted = np.exp(features - features.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True) * mask[..., None]).sum(axis=1)


def study(task, args, splits):
    """Reads out every seed's trained and untrained pooled features; returns the results dict."""
    import keras

    model_name = next((name for name, spec in task.models.items() if spec.kind == POOLING), None)
    if model_name is None:
        raise UsageError(f"task {task.name} has no pooling model")
    models = finished_models(args.out, model_name)
    batches, digits, mask = test_sequences(task, splits["test"], args.sequences)
    truth = histograms(digits, mask)
    per_seed, seeds = [], [seed for seed, _ in models]
    for seed, path in models:
        trained = read_finished_model(path)
        keras.utils.set_random_seed(seed)
        untrained = type(trained).from_config(trained.get_config())
        row = {"seed": seed}
        for name, model in (("trained", trained), ("untrained", untrained)):
            row[name] = linear_readout(pooled_features(model, batches, mask), truth)
        trained_share, untrained_share = (row[name]["exact_histogram"] for name in ("trained", "untrained"))
        print(
            f"seed {seed}: histogram read exactly for {trained_share:.4f} (untrained {untrained_share:.4f})"
        )
        per_seed.append(row)
    return {
        "task": task.name,
        **run_metadata(),
        "settings": {"model": model_name, "run": args.out, "sequences": args.sequences, "seeds": seeds},
        "per_seed": per_seed,
        "trained": summarize([row["trained"] for row in per_seed]),
        "untrained": summarize([row["untrained"] for row in per_seed]),
    }


def main(argv=None):
    args = parse_args(argv)
    results = run_study(args, study)
    for name in ("trained", "untrained"):
        found = results[name]
        print(f"{name}: histogram exact {found['exact_histogram']:.4f} ± {found['exact_histogram_std']:.4f}")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    run_main(main)
