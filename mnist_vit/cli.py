"""`python -m mnist_vit` (or `mnist-vit`): predict with a trained model, or evaluate it.

    mnist-vit predict --model runs/sum/final/transformer/seed_0/train/final.keras 3.png 4.png 9.png
    mnist-vit predict --anchor 7.png --model runs/anchor/final/transformer/seed_0/train/final.keras 7.png
    mnist-vit evaluate --model runs/sum/final/transformer/seed_0/train/final.keras --task sum --data mnist.npz

Every problem a user can cause (a missing or unreadable image or model, a
model of the wrong task, a bad option) is reported as one line on stderr with
exit code 2; nothing is written. Options, pictures and files are checked
before Keras is imported, so such a mistake is reported at once.
"""

import sys

from mnist_vit.backends import import_keras
from mnist_vit.command_line import ArgumentParser, bounded_int, run_main
from mnist_vit.errors import UsageError
from mnist_vit.tasks import ANCHOR_INPUT, task_names

IMAGE_HELP = (
    "digit images (PNG, JPEG, ...), one digit each, any size, dark or light ink on any paper: they are "
    "converted to MNIST's style (the paper's lighting levelled, white digit on black, MNIST's stroke width, "
    "20-pixel digit centred in 28x28); a picture that does not look like one digit gets a warning"
)
DEFAULT_SEQUENCES = {"test": 10000, "validation": 2000}
MAX_SEQUENCES = 1_000_000
LOW_CONFIDENCE = 0.5  # an image the model reads alone with less confidence than this gets a warning


def parse_args(argv=None):
    parser = ArgumentParser(prog="mnist-vit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    predict = commands.add_parser("predict", help="the model's answer for one sequence of digit images")
    predict.add_argument("--model", required=True, help="a .keras model of a mnist_vit task")
    predict.add_argument("--anchor", help="the anchor image (anchor models only)")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help=IMAGE_HELP)

    evaluate = commands.add_parser(
        "evaluate", help="a model's metrics on the fixed test or validation sequences"
    )
    evaluate.add_argument("--model", required=True, help="a .keras model of a mnist_vit task")
    evaluate.add_argument("--task", required=True, choices=task_names())
    evaluate.add_argument(
        "--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)"
    )
    evaluate.add_argument("--split", default="test", choices=("test", "validation"))
    evaluate.add_argument(
        "--sequences",
        type=bounded_int(1, MAX_SEQUENCES),
        help="fixed sequences to evaluate on (default: 10000 for test, 2000 for validation, as the "
        "experiments use)",
    )
    return parser.parse_args(argv)


def sequence_input(images, model):
    """Stacks `(28, 28, 1)` images into the `"sequence"` and `"mask"` inputs of one sequence for `model`.

    Pads with zero slots only to a slot count the model requires
    (`required_slots`); more images than it takes (`max_slots`) are an error.
    """
    import numpy as np

    from mnist_vit.slots import max_slots, required_slots

    count, most = len(images), max_slots(model)
    if most is not None and count > most:
        raise UsageError(f"this model takes at most {most} images, got {count}")
    slots = required_slots(model) or count
    sequence = np.zeros((1, slots, 28, 28, 1), np.float32)
    sequence[0, :count] = np.stack(images)
    mask = np.arange(slots)[None, :] < count
    return {"sequence": sequence, "mask": mask}


def warn(message):
    """One `warning:` line on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def predict(args):
    import numpy as np

    from mnist_vit.images import load_digit_image
    from mnist_vit.model_files import declared_model, load_task_model
    from mnist_vit.presentation import presentation_of

    images = [load_digit_image(path, warn) for path in args.images]
    anchor = load_digit_image(args.anchor, warn) if args.anchor else None
    declared = declared_model(args.model)
    task_name, declared_inputs = declared
    if ANCHOR_INPUT not in declared_inputs and anchor is not None:
        raise UsageError(f"{args.model} is a model of the {task_name} task: it takes no --anchor")
    if ANCHOR_INPUT in declared_inputs and anchor is None:
        raise UsageError(
            f"{args.model} is a model of the {task_name} task: give the anchor image with --anchor"
        )
    import_keras()
    model, task = load_task_model(args.model, declared)  # checks that the model keeps the inputs it declares

    def answer(sequence):
        inputs = sequence_input(sequence, model)
        if task.has_anchor:
            inputs[ANCHOR_INPUT] = anchor[None]
        value = float(np.asarray(model.predict(inputs, verbose=0)).reshape(-1)[0])
        if not np.isfinite(value):
            raise UsageError(
                f"{args.model} answered {value} (not a number) for these images: the model is broken"
            )
        return value

    shown = presentation_of(task.name)
    value = answer(images)
    print(shown.prediction(value, len(images)))
    if shown.confidence is None:
        return
    print(f"confidence: {shown.confidence(value):.2f} (1: certain, 0: a coin toss)")
    for path, image in zip(args.images, images, strict=True):
        alone = answer([image])
        if shown.confidence(alone) < LOW_CONFIDENCE:
            warn(
                f"{path} is read with low confidence ({shown.confidence(alone):.2f}) on its own: "
                f"{shown.prediction(alone, 1)}"
            )


def evaluate(args):
    from mnist_vit.data import load_splits
    from mnist_vit.model_files import declared_model, load_task_model

    declared = declared_model(args.model)
    task_name, _ = declared
    if task_name != args.task:
        raise UsageError(f"{args.model} is a model of the {task_name} task, not of the {args.task} task")
    splits = load_splits(args.data)
    import_keras()
    from mnist_vit.sequences import TEST_SEED, VALIDATION_SEED
    from mnist_vit.training import evaluate_sequence_model

    model, task = load_task_model(args.model, declared)  # checks that the model is of the task it declares
    seed = TEST_SEED if args.split == "test" else VALIDATION_SEED
    count = args.sequences or DEFAULT_SEQUENCES[args.split]
    print(f"evaluating on {count} fixed {args.split} sequences (lengths 1..10)")
    metrics = evaluate_sequence_model(task, model, splits[args.split], count, seed=seed, verbose=1)
    for key, value in metrics.items():
        print(f"{key}: {format_metric(value)}")


def format_metric(value):
    """A metric for the terminal: 4 decimals, dicts as `key: value` lists, None as `undefined`."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_metric(v)}" for k, v in value.items())
    return "undefined" if value is None else f"{value:.4f}"


def main(argv=None):
    args = parse_args(argv)
    run_main(lambda: {"predict": predict, "evaluate": evaluate}[args.command](args))


if __name__ == "__main__":
    main()
