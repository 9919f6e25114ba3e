"""Where does the trained ascents Transformer look, and does it read digits? Seed by seed.

The ascents Transformer reads each slot as a distribution over ten digit
classes, and each slot attends back over the slots before it, by a learned
score per distance, or to a sink that compares with nothing
(`mnist_vit.look_back.LookBackAscents`); the count is the expected number of
slots whose digit is larger than the one they look at. It learns both from
the count alone. This study reads a finished main-job run (`--run`, default
`runs/ascents`) and reports, for each seed's trained Transformer:

- where a slot of a full sequence of 10 looks, averaged over slots 2..10 (the
  first has only the sink): its share on the slot just before it, on the
  sink, and on slots farther back;
- the digit readings: the share of the real slots of fixed test sequences
  whose most likely class is their true digit. The head compares classes as
  digits (class k larger than class j when k > j), so the count can teach
  the digits themselves, in order, though no digit label is ever shown.

The results file goes into the run folder (`<run>/look_back.json`);
`--publish` writes `experiments/results/findings/look_back_ascents.json`.

    python experiments/run_tuner.py --task ascents --data ../shared/data/mnist.npz
    python experiments/studies/study_look_back.py --data ../shared/data/mnist.npz
"""

import numpy as np
from harness import (
    finished_models,
    finished_run_outputs,
    finished_run_parser,
    model_layer,
    read_finished_model,
    run_study,
    test_sequences,
)

from mnist_vit.command_line import run_main
from mnist_vit.results import run_metadata, summarize

TASK = "ascents"
MODEL = "transformer"
LOOK_BACK_LAYER = "expected_ascents"
DIGIT_LAYER = "digit_logits"  # (batch, slots, 10): each slot's digit-class logits


def parse_args(argv=None):
    args = finished_run_parser(__doc__.splitlines()[0], "look_back").parse_args(argv)
    args.task = TASK
    return finished_run_outputs(args, "look_back")


def look_shares(weights):
    """Where slots 2..n look, from `LookBackAscents.attention` weights `(n, n + 1)` of one full sequence.

    Returns:
        dict of mean shares over slots 2..n: `previous` (the slot just
        before), `sink` and `farther` (any slot two or more back).
    """
    weights = np.asarray(weights, dtype="float64")
    slots = np.arange(1, len(weights))
    previous = weights[slots, slots - 1]
    sink = weights[slots, -1]
    return {
        "previous": float(previous.mean()),
        "sink": float(sink.mean()),
        "farther": float((1.0 - previous - sink).mean()),
    }


def reading_accuracy(model, batches, digits, mask):
    """The share of real slots whose most likely digit class (`digit_logits`) is their true digit."""
    import keras

    logits = keras.Model(model.inputs, model_layer(model, DIGIT_LAYER).output).predict(batches, verbose=0)
    return float((np.argmax(logits, axis=-1) == digits)[mask].mean())


def study(task, args, splits):
    """Reads every seed's look-back shares and digit readings; returns the results dict."""
    import keras

    from mnist_vit.sequences import MAX_LEN

    models = finished_models(args.out, MODEL)
    batches, digits, mask = test_sequences(task, splits["test"], args.sequences)
    per_seed = []
    for seed, path in models:
        model = read_finished_model(path)
        weights = model_layer(model, LOOK_BACK_LAYER).attention(np.ones((1, MAX_LEN), dtype=bool))
        row = {
            "seed": seed,
            **look_shares(keras.ops.convert_to_numpy(weights)[0]),
            "digit_reading_accuracy": reading_accuracy(model, batches, digits, mask),
        }
        print(
            f"seed {seed}: looks at the slot before {row['previous']:.4f}, sink {row['sink']:.4f}, "
            f"farther {row['farther']:.4f}; reads its digit right {row['digit_reading_accuracy']:.4f}"
        )
        per_seed.append(row)
    return {
        "task": task.name,
        **run_metadata(),
        "settings": {
            "model": MODEL,
            "run": args.out,
            "sequences": args.sequences,
            "seeds": [seed for seed, _ in models],
        },
        "per_seed": per_seed,
        "summary": summarize([{k: v for k, v in row.items() if k != "seed"} for row in per_seed]),
    }


def main(argv=None):
    args = parse_args(argv)
    summary = run_study(args, study)["summary"]
    print(
        f"looks at the slot before {summary['previous']:.4f} ± {summary['previous_std']:.4f}; "
        f"reads its digit right {summary['digit_reading_accuracy']:.4f} "
        f"± {summary['digit_reading_accuracy_std']:.4f}"
    )
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    run_main(main)
