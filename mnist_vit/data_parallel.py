"""Data-parallel training over several devices of one machine, with the engine each backend offers.

- jax: Keras's own distribution API, `keras.distribution.DataParallel`.
- tensorflow: `tf.distribute.MirroredStrategy`, the engine `model.fit` uses
  for several GPUs of one machine. This module is the package's only
  TensorFlow-specific code: Keras exposes no backend-neutral way to it.
- torch: Keras distributes nothing on this backend (its PyTorch trainer runs
  on one device); the option is an error that says so.

In every case each batch is split along its first axis across the devices,
the weights are replicated, gradients are averaged, clipped after averaging
and batch statistics cover the whole batch, so training computes what it
computes on one device (`tests/data_parallel_check.py` checks the losses).
On tensorflow that takes three adjustments, each made only under a
strategy: `ReplicatedAdamW` (gradient clipping), `mask_dtype` (the padding
mask) and `mnist_vit.encoder.GlobalBatchNormalization` (batch statistics).
"""

import contextlib

import keras

from mnist_vit.errors import UsageError

_STRATEGY = None  # the TensorFlow strategy of the `data_parallel` block in progress, if any


@contextlib.contextmanager
def data_parallel(batch_sizes=()):
    """Within the block, models built (and trained) use every local device data-parallel.

    On jax it sets Keras's global distribution. On tensorflow it holds a
    `MirroredStrategy` that `strategy_scope` enters wherever models are
    built and compiled (a block-wide scope would not last: KerasTuner
    clears Keras's session, and with it TensorFlow's scope stack, before
    each trial).

    Args:
        batch_sizes: ints that each must be divisible by the device count.

    Yields:
        The number of devices.

    Raises:
        UsageError: on the torch backend, or when a batch size does not
            split evenly across the devices.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        devices = keras.distribution.list_devices()
        _check_batch_sizes(batch_sizes, len(devices))
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        try:
            yield len(devices)
        finally:
            keras.distribution.set_distribution(previous)
    elif backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        _check_batch_sizes(batch_sizes, len(devices))
        global _STRATEGY
        _STRATEGY = tf.distribute.MirroredStrategy([device.name for device in devices])
        try:
            yield len(devices)
        finally:
            _STRATEGY = None
    else:
        raise UsageError(
            f"Keras trains data-parallel on the jax backend (keras.distribution.DataParallel) and the "
            f"tensorflow backend (tf.distribute.MirroredStrategy); its {backend} backend trains on one device"
        )


def _check_batch_sizes(batch_sizes, devices):
    for batch_size in batch_sizes:
        if batch_size % devices:
            raise UsageError(f"batch size {batch_size} does not split evenly across {devices} devices")


def tensorflow_replicas():
    """The replicas of the TensorFlow distribution strategy in effect (in a training step); 1 without one."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


@keras.saving.register_keras_serializable(package="mnist_vit")
class ReplicatedAdamW(keras.optimizers.AdamW):
    """AdamW whose gradient clipping acts on the gradient summed over the replicas of a TF strategy.

    Keras's optimizer clips (`clipnorm`) each replica's gradient before its
    TensorFlow backend sums them over the replicas, so with two devices it
    clips two half-batch gradients and the update is not the one-device
    update. Here the clipping hook first sums the replicas' gradients,
    clips the sum, and gives each replica its share (1 / replicas), which
    the backend's sum turns back into the clipped total. Without a strategy
    (and on other backends) it is AdamW unchanged. It overrides Keras's
    `_clip_gradients` hook, so `tests/data_parallel_check.py` compares its
    training with one device's.
    """

    def _clip_gradients(self, grads):
        replicas = tensorflow_replicas()
        if replicas == 1:
            return super()._clip_gradients(grads)
        import tensorflow as tf

        total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)
        return [gradient / replicas for gradient in super()._clip_gradients(total)]


def under_tensorflow_strategy():
    """True within a `data_parallel` block on tensorflow."""
    return _STRATEGY is not None


def strategy_scope():
    """Where models are built and compiled: the TF strategy's scope within `data_parallel`, else none."""
    return _STRATEGY.scope() if _STRATEGY is not None else contextlib.nullcontext()


def mask_dtype():
    """The dtype of the padding masks that `SequenceBatches` serves: bool, or float32 under a TF strategy.

    Keras's TensorFlow trainer averages the first distributed batch over the
    replicas to build the model's metrics, which it cannot do for a bool
    tensor; a float32 0/1 mask averages, and the models cast their `"mask"`
    input back to bool.
    """
    return "float32" if under_tensorflow_strategy() else "bool"
