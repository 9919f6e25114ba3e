"""Regenerates the README's results and performance tables from the results files.

Reads `experiments/results/{classification,sum,anchor}.json` (whichever
exist) and rewrites the block between `<!-- results:start -->` and
`<!-- results:end -->` in README.md, with the original project's numbers
beside ours; reads `experiments/results/throughput.json` (if it exists) and
rewrites the block between `<!-- performance:start -->` and
`<!-- performance:end -->`.

    python experiments/update_readme.py
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORIGINAL_THROUGHPUT = 673  # training sequences/s of the original project, same kind of machine

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


def render_performance(throughput):
    lines = [
        "| backend | model | training seq/s, length buckets | training seq/s, padded to 10 | ratio "
        "| predict seq/s (buckets / padded) | padding share of encoded slots (buckets / padded) "
        "| peak RSS MB | training step ms, sequences of 1 / 2 / 5 / 10 images |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in throughput["results"]:
        step_ms = " / ".join(f"{ms:.1f}" for ms in row["step_ms_by_slots"].values())
        lines.append(
            f"| {row['backend']} | {row['model']} (batch {row['batch_size']}) "
            f"| {row['sequences_per_second']:.0f} | {row['padded_sequences_per_second']:.0f} "
            f"| {row['ratio_vs_padded']:.2f} | {row['predict_sequences_per_second']:.0f} / "
            f"{row['padded_predict_sequences_per_second']:.0f} "
            f"| {row['padding_fraction']['bucketed']:.1%} / {row['padding_fraction']['padded']:.1%} "
            f"| {row['peak_rss_mb']:.0f} | {step_ms} |"
        )
    lines.append("")
    lines.append(
        "Written by `python experiments/update_readme.py` from `experiments/results/throughput.json`, "
        f"made by `{throughput['command']}` on {throughput['machine']}. The original project trained at "
        f"{ORIGINAL_THROUGHPUT} sequences/s on the same kind of machine."
    )
    return "\n".join(lines)


def replace_block(readme, name, text):
    """`readme` with the text between `<!-- name:start -->` and `<!-- name:end -->` replaced."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in readme or end not in readme:
        raise ValueError(f"README.md lacks the {start} ... {end} markers")
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{text}\n{end}{tail}"


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
    throughput_path = os.path.join(HERE, "results", "throughput.json")
    try:
        readme = replace_block(readme, "results", render(results))
        if os.path.exists(throughput_path):
            with open(throughput_path) as f:
                readme = replace_block(readme, "performance", render_performance(json.load(f)))
            results["throughput"] = True
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with open(readme_path, "w") as f:
        f.write(readme)
    print(f"updated {readme_path} from {', '.join(results) or 'no results'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
