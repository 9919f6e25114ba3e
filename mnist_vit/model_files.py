"""Loading a saved mnist_vit model, with the task it records."""

import json
import re
import warnings
import zipfile

from mnist_vit.errors import ModelFileError
from mnist_vit.safe_files import check_readable_file

ZIP_SIGNATURE = b"PK\x03\x04"
MAX_CONFIG_BYTES = 16 * 2**20  # a model's config.json or metadata.json; a real one is a few hundred kB
MAX_MODEL_BYTES = 4 * 2**30  # all of an archive's members, uncompressed


def check_model_file(path):
    """Raises ModelFileError naming `path` unless it is a readable `.keras` (zip) file of a sensible size.

    What the archive declares is bounded before anything is read from it:
    its `config.json` and `metadata.json` at `MAX_CONFIG_BYTES`, all its
    members at `MAX_MODEL_BYTES` (a crafted config could ask for gigabytes
    of memory). Imports no Keras.
    """
    check_readable_file(path, "model file", ModelFileError)
    with open(path, "rb") as f:
        starts_as_zip = f.read(4) == ZIP_SIGNATURE
    if not path.endswith(".keras") or not starts_as_zip:
        raise ModelFileError(f"model file {path} is not a .keras model file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info.file_size for info in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ModelFileError(f"model file {path} is damaged (truncated or corrupt: {error})") from None
    if "config.json" not in members:
        raise ModelFileError(f"model file {path} is not a .keras model file: it holds no config.json")
    for name in ("config.json", "metadata.json"):
        if members.get(name, 0) > MAX_CONFIG_BYTES:
            raise ModelFileError(
                f"model file {path} declares a {name} of {members[name]:,} bytes; "
                f"at most {MAX_CONFIG_BYTES:,} are read"
            )
    if sum(members.values()) > MAX_MODEL_BYTES:
        raise ModelFileError(
            f"model file {path} declares {sum(members.values()):,} bytes of content; "
            f"at most {MAX_MODEL_BYTES:,} are read"
        )


def declared_model(path):
    """The task name and input names that a `.keras` file's `config.json` declares; imports no Keras.

    For the checks a command makes before it imports Keras; loading the
    model (`load_task_model`) then checks that the model keeps them.

    Returns:
        `(task, inputs)`: the recorded task name and the set of input names.

    Raises:
        ModelFileError: naming `path`, when it fails `check_model_file`, its
            config is not JSON or it records no task name.
    """
    check_model_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))["config"]
        task, inputs = config["task"], config["input_layers"]
        names = set(inputs) if isinstance(inputs, dict) else {layer[0] for layer in inputs}
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ModelFileError(f"model file {path} is damaged (truncated or corrupt: {error})") from None
    except (KeyError, TypeError, IndexError):
        raise ModelFileError(f"model file {path} is not a mnist_vit model: it records no task") from None
    if not isinstance(task, str) or not all(isinstance(name, str) for name in names):
        raise ModelFileError(f"model file {path} is not a mnist_vit model: it records no task")
    return task, names


def load_task_model(path, declared=None):
    """Loads a `.keras` model of a registered task in Keras's safe mode.

    Args:
        path: str, the `.keras` file.
        declared: `declared_model(path)`'s answer, when the caller has it:
            the archive was checked then (`check_model_file`) and is not
            checked again, and the loaded model must be of the declared task.

    Returns:
        `(model, task)`: the model and its `Task` (from the task name the
        model records, `mnist_vit.tasks.TaskModel`).

    Raises:
        ModelFileError: naming `path`, when the file is missing, is not a
            `.keras` file Keras can load, records no registered task, or its
            inputs are not the task's.
    """
    if declared is None:
        check_model_file(path)
    import keras

    from mnist_vit.task_model import TaskModel
    from mnist_vit.tasks import get_task, load_builtin_tasks, task_names

    load_builtin_tasks()  # registers every class a saved model of a built-in task may use
    try:
        with warnings.catch_warnings():  # a failed load also warns; the error says it all
            warnings.simplefilter("ignore")
            model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for damaged or foreign files
        raise ModelFileError(f"model file {path} cannot be loaded: {load_failure(error)}") from None
    if not isinstance(model, TaskModel) or model.task not in task_names():
        raise ModelFileError(
            f"model file {path} is not a mnist_vit model: it records no task of {list(task_names())}"
        )
    if declared is not None and model.task != declared[0]:
        raise ModelFileError(
            f"model file {path} changed while it was read: it declared the {declared[0]} task, "
            f"then loaded as the {model.task} task"
        )
    task = get_task(model.task)
    check_contract(model, task, path)
    return model, task


def check_contract(model, task, path):
    """Raises ModelFileError unless `model` takes the task's inputs and gives one finite number per sequence.

    Checks the input names and shapes (`"sequence"` `(batch, slots, 28, 28,
    1)`, `"mask"` `(batch, slots)`, an anchor `(batch, 28, 28, 1)`), then
    predicts one all-blank sequence and expects a finite `(1, 1)` array.
    """
    import numpy as np

    from mnist_vit.slots import ANCHOR_INPUT, required_slots

    shapes = {tensor.name.split(":")[0]: tuple(tensor.shape) for tensor in model.inputs}
    if set(shapes) != task.input_names():
        raise ModelFileError(
            f"model file {path} is a model of the {task.name} task with inputs {sorted(shapes)}, "
            f"expected {sorted(task.input_names())}"
        )
    expected = {"sequence": (None, None, 28, 28, 1), "mask": (None, None), ANCHOR_INPUT: (None, 28, 28, 1)}
    for name, shape in shapes.items():
        want = expected[name]
        if len(shape) != len(want) or any(w is not None and s != w for s, w in zip(shape, want, strict=True)):
            raise ModelFileError(f"model file {path}: input {name!r} has shape {shape}, expected {want}")
    slots = required_slots(model) or 1
    probe = {"sequence": np.zeros((1, slots, 28, 28, 1), "float32"), "mask": np.arange(slots)[None] < 1}
    if task.has_anchor:
        probe[ANCHOR_INPUT] = np.zeros((1, 28, 28, 1), "float32")
    try:
        output = model.predict(probe, verbose=0)
    except Exception as error:  # a crafted model can fail in many ways
        raise ModelFileError(f"model file {path} cannot answer a sequence: {one_line(error)}") from None
    if not isinstance(output, np.ndarray) or output.shape != (1, 1):
        described = type(output).__name__ if not isinstance(output, np.ndarray) else f"shape {output.shape}"
        raise ModelFileError(
            f"model file {path} must answer one number per sequence, (batch, 1); it gives {described}"
        )
    if not np.isfinite(output).all():
        raise ModelFileError(
            f"model file {path} answers {output[0, 0]} for a blank sequence: its weights are broken"
        )


def one_line(error, limit=400):
    """An exception's whole message on one line (its type if it has none), cut at `limit` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_failure(error):
    """Why Keras could not load a file, in one line: the innermost cause Keras names, if any."""
    text = one_line(error, limit=10**6)
    unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if unknown:
        return f"it uses {unknown.group(1)!r}, which is neither Keras's nor mnist_vit's"
    return one_line(text)
