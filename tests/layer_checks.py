"""One check for every custom layer: registered, config round trip, output shape, masking."""

import keras
import numpy as np


def check_layer(layer, args, expected_shapes, mask_index=None, slots_index=None, masked_output=None):
    """Asserts what every registered mnist_vit layer must do.

    - Registered with Keras, so a `.keras` file that holds it loads.
    - `from_config(get_config())` rebuilds a layer with the same config.
    - The eager outputs have `expected_shapes`, and `compute_output_shape`
      agrees with them.
    - With `mask_index` (the position of a bool `(batch, slots)` padding
      mask in `args`): random values in the padded slots of
      `args[slots_index]` (default: the argument before the mask) leave
      `masked_output(outputs)` unchanged.

    Args:
        layer: the layer.
        args: list of NumPy inputs of the call.
        expected_shapes: tuple of shapes, one per output.
        mask_index: int or None.
        masked_output: `outputs -> array` whose values must not see padding;
            defaults to the whole output.
    """
    cls = type(layer)
    assert keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is cls
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config

    outputs = tuple(_numpy(o) for o in _as_tuple(layer(*args)))
    assert tuple(tuple(o.shape) for o in outputs) == tuple(tuple(s) for s in expected_shapes)
    computed = layer.compute_output_shape(*[a.shape for a in args])
    computed = computed if isinstance(computed[0], tuple) else (computed,)
    assert tuple(tuple(s) for s in computed) == tuple(tuple(s) for s in expected_shapes)

    if mask_index is not None:
        pick = masked_output or (lambda outs: outs[0])
        mask = args[mask_index]
        slots = mask_index - 1 if slots_index is None else slots_index
        noise = np.random.default_rng(0).normal(size=args[slots].shape).astype(args[slots].dtype)
        padded = ~mask.reshape(mask.shape + (1,) * (args[slots].ndim - 2))
        noisy = list(args)
        noisy[slots] = np.where(padded, noise, args[slots])
        changed = pick(tuple(_numpy(o) for o in _as_tuple(layer(*noisy))))
        np.testing.assert_allclose(changed, pick(outputs), atol=1e-5)


def _as_tuple(outputs):
    return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)


def _numpy(tensor):
    return keras.ops.convert_to_numpy(keras.ops.stop_gradient(tensor))
