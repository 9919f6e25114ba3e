"""Loading a saved mnist_vit model, with the task it records."""

import os
import zipfile

from mnist_vit.errors import ModelFileError


def load_task_model(path):
    """Loads a `.keras` model of a registered task in Keras's safe mode.

    Returns:
        `(model, task)`: the model and its `Task` (from the task name the
        model records, `mnist_vit.tasks.TaskModel`).

    Raises:
        ModelFileError: naming `path`, when the file is missing, is not a
            `.keras` file Keras can load, records no registered task, or its
            inputs are not the task's.
    """
    import keras

    from mnist_vit.tasks import TaskModel, get_task, task_names

    if not os.path.isfile(path):
        raise ModelFileError(f"model file {path} does not exist")
    if not path.endswith(".keras") or not zipfile.is_zipfile(path):
        raise ModelFileError(f"model file {path} is not a .keras model file")
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for damaged files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"model file {path} cannot be loaded: {first_line}") from None
    if not isinstance(model, TaskModel) or model.task not in task_names():
        raise ModelFileError(
            f"model file {path} is not a mnist_vit model: it records no task of {list(task_names())}"
        )
    task = get_task(model.task)
    names = {tensor.name.split(":")[0] for tensor in model.inputs}
    if names != task.input_names():
        raise ModelFileError(
            f"model file {path} is a {task.name} model with inputs {sorted(names)}, "
            f"expected {sorted(task.input_names())}"
        )
    return model, task
