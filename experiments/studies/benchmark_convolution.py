"""The encoder's convolution step in Keras and in the plain framework under it, on each backend.

A training step of the image encoder is mostly its two convolutions. This
benchmark times that step -- conv(16, 5x5, same) - ReLU - max-pool 2 -
conv(32, 5x5, same) - ReLU - max-pool 2 on 352 images (a batch of 64
sequences of 5.5 images on average), forward, backward and a gradient-descent
update -- written twice for each backend:

- **keras**: a Keras model of these layers, `train_on_batch` (what
  `model.fit` runs per step, including Keras's own per-step work), in both
  of the encoder's layouts (`mnist_vit.encoder.DATA_FORMATS`): the layers
  computing channels-last, or channels-first after one transpose of the
  channels-last input, as the encoder does;
- **plain**: the same operations written directly in the framework Keras
  runs on (`tf.nn` in a `tf.function`, `jax.lax` under `jax.jit`,
  `torch.nn.functional` in eager PyTorch as Keras runs it, in both of
  PyTorch's memory formats).

So it separates what a backend's framework costs on this machine from what
Keras adds. Each backend runs in its own process (Keras picks the backend at
import). The figure is the median over rounds of the mean step time in a
round, after a warm-up that compiles. Writes
`experiments/results/convolution.json`.

    python experiments/studies/benchmark_convolution.py
"""

import os

from harness import (
    IMAGES,
    benchmark_parser,
    compare_to_baseline,
    print_rows,
    time_steps,
)

from mnist_vit.command_line import run_main
from mnist_vit.settings import PUBLISHED_RESULTS

FILTERS = (16, 32)  # the encoder's defaults (`mnist_vit.encoder.EncoderConfig`)
KERNEL = 5
LEARNING_RATE = 1e-3
CHANNELS_LAST, CHANNELS_FIRST = "channels_last", "channels_first"  # the plain steps' layouts


def parse_args(argv=None):
    results = os.path.join(PUBLISHED_RESULTS, "convolution.json")
    return benchmark_parser(__doc__.splitlines()[0], results, steps=20, rounds=5).parse_args(argv)


def inputs():
    """NumPy images `(IMAGES, 28, 28, 1)` in 0..1 and conv kernels `(k, k, in, out)`, the same everywhere."""
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (IMAGES, 28, 28, 1)).astype("float32")
    kernels, channels = [], 1
    for filters in FILTERS:
        scale = (2.0 / (KERNEL * KERNEL * channels)) ** 0.5
        kernels.append((rng.normal(size=(KERNEL, KERNEL, channels, filters)) * scale).astype("float32"))
        channels = filters
    return images, kernels


def keras_step(data_format):
    """`train_on_batch` of a Keras model of the convolutions in `data_format` (loss: mean squared output)."""
    import keras
    import numpy as np

    images, kernels = inputs()
    model = keras.Sequential([keras.Input((28, 28, 1))])
    if data_format == "channels_first":
        model.add(keras.layers.Permute((3, 1, 2)))
    for filters, kernel in zip(FILTERS, kernels, strict=True):
        conv = keras.layers.Conv2D(filters, KERNEL, padding="same", use_bias=False, data_format=data_format)
        model.add(conv)
        conv.kernel.assign(kernel)
        model.add(keras.layers.ReLU())
        model.add(keras.layers.MaxPooling2D(2, data_format=data_format))
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    target = np.zeros((IMAGES, *model.output_shape[1:]), "float32")
    return lambda: model.train_on_batch(images, target)


def plain_steps(backend):
    """dict of implementation name -> (data format, step function) in the plain framework of `backend`."""
    return {"tensorflow": plain_tensorflow, "jax": plain_jax, "torch": plain_torch}[backend]()


def plain_tensorflow():
    import tensorflow as tf

    images, kernels = inputs()
    images = tf.constant(images)
    weights = [tf.Variable(kernel) for kernel in kernels]

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            x = images
            for weight in weights:
                x = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, weight, 1, "SAME")), 2, 2, "VALID")
            loss = tf.reduce_mean(tf.square(x))
        for weight, gradient in zip(weights, tape.gradient(loss, weights), strict=True):
            weight.assign_sub(LEARNING_RATE * gradient)
        return loss

    return {"plain NHWC": (CHANNELS_LAST, lambda: step().numpy())}


def plain_jax():
    import jax
    import jax.numpy as jnp

    images, kernels = inputs()
    images = jnp.asarray(images)

    def loss(weights):
        x = images
        for weight in weights:
            x = jax.lax.conv_general_dilated(
                x, weight, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            x = jax.lax.reduce_window(
                jax.nn.relu(x), -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"
            )
        return jnp.mean(jnp.square(x))

    @jax.jit
    def update(weights):
        value, gradients = jax.value_and_grad(loss)(weights)
        return [w - LEARNING_RATE * g for w, g in zip(weights, gradients, strict=True)], value

    state = {"weights": [jnp.asarray(kernel) for kernel in kernels]}

    def step():
        state["weights"], value = update(state["weights"])
        value.block_until_ready()

    return {"plain NHWC": (CHANNELS_LAST, step)}


def plain_torch():
    import torch
    import torch.nn.functional as F

    images, kernels = inputs()

    def make(memory_format):
        x0 = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(memory_format=memory_format)
        weights = [
            torch.from_numpy(kernel)
            .permute(3, 2, 0, 1)
            .contiguous(memory_format=memory_format)
            .requires_grad_()
            for kernel in kernels
        ]

        def step():
            x = x0
            for weight in weights:
                x = F.max_pool2d(F.relu(F.conv2d(x, weight, padding="same")), 2)
            loss = torch.mean(torch.square(x))
            gradients = torch.autograd.grad(loss, weights)
            with torch.no_grad():
                for weight, gradient in zip(weights, gradients, strict=True):
                    weight -= LEARNING_RATE * gradient
            return float(loss.detach())

        return step

    return {
        "plain NCHW": (CHANNELS_FIRST, make(torch.contiguous_format)),
        "plain NCHW, channels-last memory": (CHANNELS_FIRST, make(torch.channels_last)),
    }


def child_main(args):
    """Times Keras's and the plain framework's steps on this process's backend; prints one JSON line."""
    import keras

    from mnist_vit.encoder import DATA_FORMATS

    backend = keras.backend.backend()
    steps = [("keras", data_format, keras_step(data_format)) for data_format in DATA_FORMATS]
    steps += [(name, data_format, step) for name, (data_format, step) in plain_steps(backend).items()]
    rows = [
        {
            "backend": backend,
            "implementation": name,
            "data_format": data_format,
            "ms_per_step": time_steps(step, args.steps, args.rounds),
        }
        for name, data_format, step in steps
    ]
    print_rows(rows)


def main():
    args = parse_args()
    if args.child:
        return child_main(args)
    compare_to_baseline(
        __file__,
        args,
        column="implementation",
        baseline=("the fastest plain", lambda row: row["implementation"] != "keras"),
        ratio="vs_fastest_plain",
        settings={"images": IMAGES, "filters": list(FILTERS), "kernel_size": KERNEL},
        note=lambda row: f", {row['data_format']}",
    )


if __name__ == "__main__":
    run_main(main)
