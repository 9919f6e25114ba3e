"""Metrics for the sum task."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mnist_vit")
def exact_match(y_true, y_pred):
    """1.0 where `round(y_pred) == y_true`, else 0.0; shapes `(batch, 1)`."""
    return ops.cast(ops.equal(ops.round(y_pred), ops.cast(y_true, y_pred.dtype)), "float32")


@keras.saving.register_keras_serializable(package="mnist_vit")
class ExactAccuracy(keras.metrics.MeanMetricWrapper):
    """Fraction of sequences whose rounded predicted sum equals the true sum."""

    def __init__(self, name="exact_accuracy", dtype=None):
        super().__init__(exact_match, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
