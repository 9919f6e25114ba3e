"""PyTorch's own settings under Keras, timed: `jit_compile` (torch.compile) and the thread counts.

On the torch backend only, each variant in a process of its own (PyTorch
fixes its thread pools at the first operation), this benchmark trains the
tuned sum Transformer (the hyperparameters of `experiments/results/sum.json`,
the encoder in the backend's default layout) with `model.fit` on
length-bucketed batches, as the main job does:

- **eager**: Keras's torch path as the main job runs it (PyTorch's
  default thread counts);
- **jit_compile**: `model.jit_compile = True`, which makes Keras wrap the
  train step in `torch.compile`. Bucketed batches have one shape per
  sequence length, so the step may compile once per shape: the row counts
  the graphs compiled (`torch._dynamo`'s `unique_graphs`) and the first
  epoch's seconds, compilation included;
- **threads I/O**: `torch.set_num_threads(I)` and
  `torch.set_num_interop_threads(O)` for the machine's cores.

Each row: the first epoch's seconds (warm-up: every bucket shape seen), then
training sequences/s, the median over rounds of one epoch each, and the
ratio to the first variant timed (eager, unless `--variants` says otherwise). Writes
`experiments/results/findings/torch_settings.json`.

    python experiments/studies/benchmark_torch_settings.py --data ../shared/data/mnist.npz
"""

import argparse
import os
import statistics
import time

from harness import benchmark_parser, hyperparameters_in, rows_from_child, write_benchmark

from mnist_vit.command_line import run_main
from mnist_vit.settings import PUBLISHED_RESULTS


def variants():
    """dict of variant name -> (jit_compile, intra-op threads or None, interop threads or None)."""
    cores = os.cpu_count() or 1
    found = {"eager": (False, None, None), "jit_compile": (True, None, None)}
    for intra in sorted({1, cores}):
        for interop in sorted({1, cores}):
            found[f"threads {intra}/{interop}"] = (False, intra, interop)
    return found


def parse_args(argv=None):
    results = os.path.join(PUBLISHED_RESULTS, "findings", "torch_settings.json")
    parser = benchmark_parser(__doc__.splitlines()[0], results, steps=50, rounds=3)
    parser.add_argument("--data", help="path to mnist.npz (default: $MNIST_VIT_DATA, else Keras's download)")
    parser.add_argument(
        "--tuned-results",
        default=os.path.join(PUBLISHED_RESULTS, "sum.json"),
        help="sum results file whose Transformer hyperparameters are timed",
    )
    parser.add_argument(
        "--variants", nargs="+", choices=list(variants()), default=list(variants()), help="variants to time"
    )
    parser.add_argument("--variant", choices=list(variants()), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child_main(args):
    """Times one variant on the torch backend; prints one JSON line with its row."""
    import torch

    jit_compile, intra, interop = variants()[args.variant]
    if intra is not None:
        torch.set_num_threads(intra)
        torch.set_num_interop_threads(interop)

    from harness import print_rows

    from mnist_vit.data import load_splits
    from mnist_vit.encoder import build_encoder
    from mnist_vit.sequences import SequenceBatches
    from mnist_vit.sum_task import SUM, build_sum_transformer
    from mnist_vit.training import compile_for_task

    hyperparameters = hyperparameters_in(args.tuned_results, "transformer")
    batch_size = hyperparameters.training.batch_size
    splits = load_splits(args.data)
    model = build_sum_transformer(build_encoder(hyperparameters.encoder), hyperparameters.head)
    compile_for_task(SUM, model, hyperparameters.training, 10**6)
    model.jit_compile = jit_compile
    train = SequenceBatches(splits["train"], SUM, args.steps * batch_size, batch_size, seed=0, fresh=True)
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    start = time.perf_counter()
    model.fit(train, epochs=1, verbose=0)
    first_epoch = time.perf_counter() - start
    seconds = []
    for round_index in range(args.rounds):
        start = time.perf_counter()
        model.fit(train, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
        print(f"  {args.variant} round {round_index + 1}/{args.rounds}: {seconds[-1]:.1f} s", flush=True)
    print_rows(
        [
            {
                "backend": "torch",
                "variant": args.variant,
                "jit_compile": jit_compile,
                "threads": torch.get_num_threads(),
                "interop_threads": torch.get_num_interop_threads(),
                "first_epoch_seconds": round(first_epoch, 2),
                "graphs_compiled": int(torch._dynamo.utils.counters["stats"]["unique_graphs"]),
                "sequences_per_second": round(args.steps * batch_size / statistics.median(seconds), 1),
                "batch_size": batch_size,
            }
        ]
    )


def main():
    args = parse_args()
    if args.child:
        return child_main(args)
    hyperparameters_in(args.tuned_results, "transformer")
    child_args = [
        "--steps",
        str(args.steps),
        "--rounds",
        str(args.rounds),
        "--tuned-results",
        args.tuned_results,
    ]
    child_args += ["--data", args.data] if args.data else []
    rows = []
    for variant in args.variants:
        print(f"variant {variant}: {args.rounds} rounds of {args.steps} steps", flush=True)
        rows += rows_from_child(__file__, "torch", [*child_args, "--variant", variant])
        eager = rows[0]["sequences_per_second"]  # the first variant timed: eager by default
        for row in rows:
            row["vs_first"] = round(row["sequences_per_second"] / eager, 2)
        row = rows[-1]
        print(
            f"{row['variant']:>14}: {row['sequences_per_second']:.0f} seq/s "
            f"({row['vs_first']:.2f}x {rows[0]['variant']}), "
            f"first epoch {row['first_epoch_seconds']:.1f} s, {row['graphs_compiled']} graphs compiled"
        )
        settings = {"model": "tuned sum transformer", "tuned_results": os.path.relpath(args.tuned_results)}
        write_benchmark(args, rows, settings)


if __name__ == "__main__":
    run_main(main)
