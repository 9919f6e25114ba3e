"""Regenerates the README's results table from the results files.

Reads `experiments/results/{classification,sum,anchor}.json` (whichever
exist) and rewrites the block between `<!-- results:start -->` and
`<!-- results:end -->` in README.md, with the original project's numbers
beside ours.

    python experiments/update_readme.py
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
START, END = "<!-- results:start -->", "<!-- results:end -->"

# The original PyTorch project's validation numbers (shared/docs/reference.md);
# it validated on MNIST's test split.
ORIGINAL = {
    ("sum", "fc"): "0.27 exact, MSE 1.69",
    ("sum", "transformer"): "0.66 exact, MSE 1.18",
    ("anchor", "fc"): "0.77 accuracy, BCE 0.64",
    ("anchor", "transformer"): "0.92 accuracy, BCE 0.12",
}
MODEL_NAMES = {"transformer": "Transformer", "fc": "fully connected", "deepsets": "Deep Sets", "cnn": "CNN"}


def _std(test, key):
    std = test.get(f"{key}_std")
    return f" ± {std:.4f}" if std else ""


def render(results):
    lines = [
        "| task | model | our test result | original project | command |",
        "|---|---|---|---|---|",
    ]
    for task in ("classification", "sum", "anchor"):
        if task not in results:
            continue
        run = results[task]
        for model, entry in run["models"].items():
            test = entry["test"]
            if task == "classification":
                ours = f"accuracy {test['accuracy']:.4f}"
            elif task == "sum":
                ours = (
                    f"exact {test['exact_accuracy']:.4f}{_std(test, 'exact_accuracy')}, "
                    f"MSE {test['mse']:.3f}, MAE {test['mae']:.3f}"
                )
                long = test.get("exact_accuracy_by_long_length")
                if long:
                    ours += f", exact at length 20: {long['20']:.3f}"
            else:
                ours = (
                    f"accuracy {test['accuracy']:.4f}{_std(test, 'accuracy')}, AUC {test['auc']:.4f}, "
                    f"balanced {test['balanced_accuracy']:.4f}, BCE {test['loss']:.3f}"
                )
            original = ORIGINAL.get((task, model), "n/a")
            lines.append(
                f"| {task} | {MODEL_NAMES.get(model, model)} | {ours} | {original} | `{run['command']}` |"
            )
    backends = sorted({r["backend"] for r in results.values()})
    lines.append("")
    lines.append(
        f"Written by `python experiments/update_readme.py` from `experiments/results/*.json` "
        f"(backend: {', '.join(backends)}). Test sets: MNIST's test split, never used for "
        "tuning or early stopping; sequences of lengths 1..10 with a fixed seed."
    )
    return "\n".join(lines)


def main():
    results = {}
    for task in ("classification", "sum", "anchor"):
        path = os.path.join(HERE, "results", f"{task}.json")
        if os.path.exists(path):
            with open(path) as f:
                results[task] = json.load(f)
    readme_path = os.path.join(ROOT, "README.md")
    with open(readme_path) as f:
        readme = f.read()
    if START not in readme or END not in readme:
        print(f"error: {readme_path} lacks the {START} ... {END} markers", file=sys.stderr)
        return 2
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(readme_path, "w") as f:
        f.write(f"{head}{START}\n{render(results)}\n{END}{tail}")
    print(f"updated {readme_path} from {', '.join(results) or 'no results'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
