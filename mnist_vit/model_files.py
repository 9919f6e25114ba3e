"""Loading a saved mnist_vit model and telling which task it solves."""

import os
import zipfile

from mnist_vit.cli_errors import UsageError

TASK_INPUTS = {"sum": {"sequence", "mask"}, "anchor": {"anchor", "sequence", "mask"}}


class ModelFileError(UsageError):
    """A model file that is missing, corrupt, or not a mnist_vit model."""


def model_task(model):
    """The task of `model` ("sum" or "anchor"), from the names of its inputs; None if neither."""
    names = {tensor.name.split(":")[0] for tensor in model.inputs}
    for task, expected in TASK_INPUTS.items():
        if names == expected:
            return task
    return None


def load_task_model(path):
    """Loads a `.keras` model of the sum or anchor task in Keras's safe mode.

    Returns:
        `(model, task)` with task "sum" or "anchor".

    Raises:
        ModelFileError: naming `path`, when the file is missing, is not a
            `.keras` file Keras can load, or is a model of some other kind.
    """
    import keras

    import mnist_vit  # noqa: F401 (registers the custom layers)

    if not os.path.isfile(path):
        raise ModelFileError(f"model file {path} does not exist")
    if not path.endswith(".keras") or not zipfile.is_zipfile(path):
        raise ModelFileError(f"model file {path} is not a .keras model file")
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for damaged files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"model file {path} cannot be loaded: {first_line}") from None
    task = model_task(model) if isinstance(model, keras.Model) else None
    if task is None:
        raise ModelFileError(
            f"model file {path} is not a mnist_vit sum or anchor model "
            f"(its inputs must be named {sorted(TASK_INPUTS['sum'])} or {sorted(TASK_INPUTS['anchor'])})"
        )
    return model, task
