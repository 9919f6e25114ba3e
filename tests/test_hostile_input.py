"""Hostile and unusual input: odd pictures, crafted model and data files, extreme options.

Every case ends in one `error:` line and exit code 2 (or, for a picture that
is read, the right digit), writes nothing, and never hangs.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile

import keras
import numpy as np
import pytest
from model_helpers import tiny_model
from PIL import Image
from run_script import ROOT, RUN_TUNER, run_cli, run_tuner, script_env, start_tuner

from mnist_vit import cli
from mnist_vit.anchor_task import anchor_metrics
from mnist_vit.data import DATA_ENV_VAR, load_mnist, load_splits, read_npz
from mnist_vit.errors import ImageError, MnistDataError, ModelFileError
from mnist_vit.images import load_digit_image, read_grayscale
from mnist_vit.model_files import load_task_model
from mnist_vit.task_model import TaskModel


@pytest.fixture(scope="module")
def digits(mnist_path):
    with np.load(mnist_path) as data:
        return data["x_test"][:3]


def correlation(converted, original):
    return np.corrcoef(converted.ravel(), original.astype(float).ravel())[0, 1]


def assert_one_error_line(code, err, *fragments):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# Pictures ---------------------------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(ImageError, match="at most 50,000,000 pixels"):
        read_grayscale(tmp_path / "bomb.png")


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "digit.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file"):
        read_grayscale(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_task_model(str(fifo))


@pytest.mark.parametrize(
    "name, make",
    [
        ("dark_on_light_16bit.png", lambda d: Image.fromarray(((255 - d).astype(np.uint16) * 257))),
        ("float_0_to_1.tiff", lambda d: Image.fromarray(d.astype(np.float32) / 255)),
        ("int32_large.tiff", lambda d: Image.fromarray(d.astype(np.int32) * 100_000)),
        ("large_float.tiff", lambda d: Image.fromarray(d.astype(np.float32) * 1e6 - 3e5)),
        ("black_on_transparent.png",
         lambda d: Image.fromarray(np.dstack([np.zeros((*d.shape, 3), np.uint8), d]), "RGBA")),
    ],
)  # fmt: skip
def test_pictures_of_any_depth_and_transparency_read_as_the_digit(tmp_path, digits, name, make):
    for digit in digits:
        make(np.pad(digit, 6)).save(tmp_path / name)
        assert correlation(load_digit_image(tmp_path / name), digit) > 0.9, name


def test_a_phone_photo_is_turned_upright_by_its_exif_orientation(tmp_path, digits):
    for digit in digits:
        upright = Image.fromarray(255 - np.kron(np.pad(digit, 6), np.ones((4, 4), np.uint8)))
        stored = upright.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
        exif = Image.Exif()
        exif[0x0112] = 6
        stored.save(tmp_path / "photo.jpg", exif=exif, quality=95)
        assert correlation(load_digit_image(tmp_path / "photo.jpg"), digit) > 0.9


def test_non_finite_pictures_are_refused(tmp_path):
    values = np.zeros((28, 28), np.float32)
    values[5, 5] = np.nan
    Image.fromarray(values).save(tmp_path / "nan.tiff")
    with pytest.raises(ImageError, match="not finite"):
        read_grayscale(tmp_path / "nan.tiff")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_models")
    tiny_model("sum", "transformer").save(folder / "sum.keras")
    tiny_model("anchor", "transformer").save(folder / "anchor.keras")
    return folder


def test_noise_gets_a_warning_and_a_smooth_gradient_holds_no_digit(tmp_path, models, digits, capsys):
    Image.fromarray(np.random.default_rng(0).uniform(0, 255, (80, 80)).astype(np.uint8)).save(
        tmp_path / "n.png"
    )
    Image.fromarray(np.tile(np.linspace(0, 255, 80), (80, 1)).astype(np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(255 - np.pad(digits[0], 8)).save(tmp_path / "digit.png")
    code, out, err = run_cli(["predict", "--model", models / "sum.keras", tmp_path / "digit.png"], capsys)
    assert code == 0 and "predicted sum" in out and "does not look like one digit" not in err
    code, out, err = run_cli(["predict", "--model", models / "sum.keras", tmp_path / "n.png"], capsys)
    assert code == 0 and "predicted sum" in out
    doubts = [line for line in err.splitlines() if "does not look like one digit" in line]
    assert len(doubts) == 1 and doubts[0].startswith("warning: ")
    code, _, err = run_cli(["predict", "--model", models / "sum.keras", tmp_path / "g.png"], capsys)
    assert_one_error_line(code, err, "g.png: the image is blank: no digit found")


def seven_strokes(width, size=1000):
    """A 7 drawn with strokes `width` pixels wide, black on a white `size`-pixel square."""
    from PIL import ImageDraw

    picture = Image.new("L", (size, size), 255)
    ImageDraw.Draw(picture).line([(330, 220), (690, 220), (470, 820)], fill=0, width=width)
    return picture


def doubts_about(path):
    """The converted picture and the warnings `load_digit_image` gives for it."""
    warnings_given = []
    return load_digit_image(path, warnings_given.append), warnings_given


@pytest.mark.parametrize("width", [1, 2, 3])
def test_a_thin_stroke_digit_on_a_large_picture_gets_mnist_s_stroke_width(tmp_path, width):
    seven_strokes(70).save(tmp_path / "bold.png")  # strokes as wide, for its size, as MNIST's
    seven_strokes(width).save(tmp_path / "thin.png")
    bold, _ = doubts_about(tmp_path / "bold.png")
    thin, doubts = doubts_about(tmp_path / "thin.png")
    assert doubts == []
    assert correlation(thin, bold) > 0.75
    assert 0.06 < (thin > 128).mean() < 0.12 and 0.06 < (bold > 128).mean() < 0.12  # MNIST's 7: 0.09


@pytest.mark.parametrize(
    "name, paint",
    [
        ("black_7_on_grey.png", lambda digit, grey: np.where(digit > 0, grey * (1 - digit / 255), grey)),
        ("white_7_on_grey.png", lambda digit, grey: np.maximum(grey, digit)),
    ],
)
def test_a_digit_on_mid_grey_paper_is_read_whichever_its_colour(tmp_path, digits, name, paint):
    rng = np.random.default_rng(0)
    grey = rng.integers(120, 128, (60, 60)) if "black" in name else rng.integers(128, 136, (60, 60))
    canvas = grey.astype(float)
    canvas[16:44, 16:44] = paint(digits[0].astype(float), canvas[16:44, 16:44])
    Image.fromarray(canvas.astype(np.uint8)).save(tmp_path / name)
    Image.fromarray(np.clip(np.abs(canvas - grey), 0, 255).astype(np.uint8)).save(tmp_path / "ink.png")
    converted, doubts = doubts_about(tmp_path / name)
    assert doubts == [] and correlation(converted, doubts_about(tmp_path / "ink.png")[0]) > 0.95


def test_uneven_lighting_is_levelled_and_ruled_lines_are_doubted(tmp_path, digits):
    rows, cols = np.mgrid[0:600, 0:600]
    paper = 250 - 110 * cols / 600 - 40 * rows / 600  # light from the top left
    ink = np.asarray(Image.fromarray(digits[0]).resize((400, 400), Image.BILINEAR), float) / 255
    shaded = paper.copy()
    shaded[100:500, 100:500] *= 1 - 0.8 * ink
    Image.fromarray(shaded.astype(np.uint8)).save(tmp_path / "shadow.png")
    converted, doubts = doubts_about(tmp_path / "shadow.png")
    assert doubts == [] and correlation(converted, digits[0]) > 0.95
    ruled = paper - 60 * ((rows % 50) < 2)
    ruled[100:500, 100:500] *= 1 - 0.8 * ink
    Image.fromarray(np.clip(ruled, 0, 255).astype(np.uint8)).save(tmp_path / "ruled.png")
    _, doubts = doubts_about(tmp_path / "ruled.png")
    assert any("runs across the whole picture" in doubt for doubt in doubts)


def test_two_digits_in_one_picture_are_doubted_and_a_digit_in_two_strokes_is_not(tmp_path, mnist_path):
    with np.load(mnist_path) as data:
        images, labels = data["x_test"], data["y_test"]
    four, two = images[np.flatnonzero(labels == 4)[0]], images[np.flatnonzero(labels == 2)[0]]
    Image.fromarray(255 - np.pad(np.hstack([four, np.zeros((28, 6), np.uint8), two]), 10)).save(
        tmp_path / "42.png"
    )
    _, doubts = doubts_about(tmp_path / "42.png")
    assert len(doubts) == 1 and "it holds 2 digit-sized marks side by side (several digits?)" in doubts[0]
    five = np.kron(images[8], np.ones((4, 4), np.uint8))  # a 5 whose top stroke stands apart
    Image.fromarray(255 - five).save(tmp_path / "5.png")
    converted, doubts = doubts_about(tmp_path / "5.png")
    assert doubts == [] and correlation(converted, images[8]) > 0.9


@pytest.mark.parametrize("output, warned", [(7.0, False), (6.5, True)])
def test_predict_reports_its_confidence_and_warns_about_unsure_reads(
    tmp_path, digits, capsys, output, warned
):
    model = tiny_model("sum", "fc")
    layer = model.get_layer("fc_output")
    kernel, bias = layer.get_weights()
    layer.set_weights([np.zeros_like(kernel), np.full_like(bias, output)])
    model.save(tmp_path / "fixed.keras")
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    code, out, err = run_cli(["predict", "--model", tmp_path / "fixed.keras", tmp_path / "d.png"], capsys)
    assert code == 0
    assert f"confidence: {1.0 if not warned else 0.0:.2f}" in out
    assert ("d.png is read with low confidence (0.00) on its own" in err) == warned, err


# Model files -------------------------------------------------------------------------------------------


def sequence_model(folder, name, sequence_shape=(None, 28, 28, 1), mask_shape=(None,), outputs="one"):
    """A crafted `TaskModel` of the sum task with the given input shapes and kind of output."""
    sequence = keras.Input(sequence_shape, name="sequence")
    mask = keras.Input(mask_shape, dtype="bool", name="mask")
    pooled = keras.layers.GlobalAveragePooling1D()(
        keras.layers.Reshape((-1, int(np.prod(sequence_shape[1:]))))(sequence)
    )
    value = keras.layers.Dense(1)(pooled)
    out = {"one": value, "dict": {"a": value, "b": value}, "list": [value, value]}[outputs]
    path = folder / f"{name}.keras"
    TaskModel({"sequence": sequence, "mask": mask}, out, task="sum", name=name).save(path)
    return path


def test_crafted_model_inputs_and_outputs_are_named(tmp_path, models, digits, capsys):
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    cases = {
        "wrong image shape": (
            sequence_model(tmp_path, "big", (None, 32, 32, 1)),
            "input 'sequence' has shape",
        ),
        "rank-4 sequence": (sequence_model(tmp_path, "rank4", (None, 28, 28)), "input 'sequence' has shape"),
        "dict output": (sequence_model(tmp_path, "dict", outputs="dict"), "one number per sequence"),
        "list output": (sequence_model(tmp_path, "list", outputs="list"), "one number per sequence"),
    }
    for what, (path, fragment) in cases.items():
        code, _, err = run_cli(["predict", "--model", path, tmp_path / "d.png"], capsys)
        assert_one_error_line(code, err, fragment)
        assert "Traceback" not in err, what


def test_a_fixed_length_model_without_flatten_slots_gets_padded_sequences(tmp_path, digits, capsys):
    path = sequence_model(tmp_path, "fixed", (10, 28, 28, 1), (10,))
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    code, out, err = run_cli(["predict", "--model", path, tmp_path / "d.png", tmp_path / "d.png"], capsys)
    assert code == 0 and "for 2 images" in out, err


def test_a_model_that_answers_nan_is_an_error(tmp_path, digits, capsys):
    model = tiny_model("sum", "fc")
    layer = model.get_layer("fc_output")
    layer.set_weights([np.full_like(w, np.nan) for w in layer.get_weights()])
    model.save(tmp_path / "nan.keras")
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    code, _, err = run_cli(["predict", "--model", tmp_path / "nan.keras", tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "nan", "broken")


def test_model_file_problems_name_their_real_cause(tmp_path, models, digits, capsys, monkeypatch):
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    (tmp_path / "folder.keras").mkdir()
    code, _, err = run_cli(["predict", "--model", tmp_path / "folder.keras", tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "is a folder")

    # Another model's weights in a model file.
    with zipfile.ZipFile(models / "sum.keras") as source, zipfile.ZipFile(models / "anchor.keras") as other:
        with zipfile.ZipFile(tmp_path / "mixed.keras", "w") as target:
            for item in source.infolist():
                data = other.read(item.filename) if item.filename.endswith(".h5") else source.read(item)
                target.writestr(item.filename, data)
    code, _, err = run_cli(["predict", "--model", tmp_path / "mixed.keras", tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "cannot be loaded")
    assert not err.rstrip().endswith(":")

    # An unknown class in the config.
    with zipfile.ZipFile(models / "sum.keras") as source:
        config = json.loads(source.read("config.json"))
        config["config"]["layers"][-1].update(
            class_name="Teleporter", registered_name="Teleporter", module=None
        )
        with zipfile.ZipFile(tmp_path / "unknown.keras", "w") as target:
            for item in source.infolist():
                data = json.dumps(config) if item.filename == "config.json" else source.read(item)
                target.writestr(item.filename, data)
    code, _, err = run_cli(["predict", "--model", tmp_path / "unknown.keras", tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "Teleporter")

    # A model file that cannot be read (simulated: the tests may run as root).
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if str(path).endswith("sum.keras") else real_access(path, mode)
    )
    code, _, err = run_cli(["predict", "--model", models / "sum.keras", tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "cannot be read (permission denied)")


# Data files --------------------------------------------------------------------------------------------


def write_mnist(path, train=6000, test=100):
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, train, dtype=np.uint8),
        x_test=rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, test, dtype=np.uint8),
    )
    return path


def test_data_files_with_impossible_sizes_are_named(tmp_path):
    with pytest.raises(MnistDataError, match="hold no images"):
        read_npz(write_mnist(tmp_path / "empty_test.npz", test=0))
    with pytest.raises(MnistDataError, match="training split has 5,000 images; at least 5,001"):
        load_splits(write_mnist(tmp_path / "small.npz", train=5000))
    np.save(tmp_path / "array.npy", np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(MnistDataError, match="not a readable .npz"):
        read_npz(tmp_path / "array.npy")


def test_a_header_that_claims_a_billion_images_is_refused_before_allocating(tmp_path):
    path = write_mnist(tmp_path / "claims.npz", train=6000)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = members["x_train.npy"][:128].decode("latin1")
    members["x_train.npy"] = (
        header.replace("(6000,", "(1000000000,").encode("latin1") + members["x_train.npy"][128:]
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(MnistDataError, match="claims 1,000,000,000 entries"):
        read_npz(path)


def test_a_failed_download_leaves_no_cache_folder(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)

    def offline():
        os.makedirs(home / "datasets")
        raise OSError("Network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(MnistDataError, match="could not download"):
        load_mnist()
    assert not (home / "datasets").exists()


def test_an_anchor_evaluation_of_one_sequence_has_no_warnings_and_an_undefined_auc(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = anchor_metrics(np.array([0.8]), np.array([1.0]), np.array([3]))
    assert metrics["auc"] is None and metrics["accuracy"] == 1.0
    assert cli.format_metric(metrics["auc"]) == "undefined"


def test_absurd_sequence_counts_are_refused(models, mnist_path, capsys):
    argv = ["evaluate", "--model", models / "sum.keras", "--task", "sum", "--sequences", "1000000000"]
    code, _, err = run_cli([*argv, "--data", mnist_path], capsys)
    assert_one_error_line(code, err, "1..1,000,000", "1,000,000,000")


# The main job and every entry point ------------------------------------------------------------------


@pytest.mark.slow
def test_run_tuner_refuses_bad_outputs_and_sizes_before_any_training(tmp_path, mnist_path):
    (tmp_path / "results_folder").mkdir()
    small = write_mnist(tmp_path / "small.npz", train=5000)
    cases = [
        (["--results", str(tmp_path / "results_folder"), "--data", mnist_path], "is a folder"),
        (["--task", "anchor", "--validation-sequences", "1", "--data", mnist_path], "32..1,000,000"),
        (["--data", str(small)], "training split has 5,000 images"),
    ]
    for args, fragment in cases:
        result = run_tuner([*args, "--out", str(tmp_path / "out")])
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            line for line in result.stderr.splitlines() if line.strip()
        ]
        assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr
        assert "Search: Running Trial" not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "mnist_vit", "predict", "--model", "m.keras", "a.png"],
        [sys.executable, RUN_TUNER],
    ],
    ids=["cli", "run_tuner"],
)
def test_an_unknown_backend_is_one_line_naming_the_valid_ones(tmp_path, command):
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=script_env(KERAS_BACKEND="nonsense"))  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: KERAS_BACKEND='nonsense' is not a Keras backend; use one of tensorflow, jax, torch"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("backend", [None, "jax"])
def test_without_tensorflow_one_line_says_which_extra_to_install(tmp_path, backend):
    # A Python whose import system cannot find TensorFlow, as after `pip install -e .` without an extra.
    hide = "import sys; sys.modules['tensorflow'] = None; sys.argv[1:] = ['--help']; import runpy; "
    env = {k: v for k, v in script_env().items() if k != "KERAS_BACKEND"}
    if backend:
        env["KERAS_BACKEND"] = backend
    code = hide + f"runpy.run_path({RUN_TUNER!r}, run_name='__main__')"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: TensorFlow is not installed") and "pip install -e '.[cpu]'" in line


@pytest.mark.slow
def test_ctrl_c_during_a_search_says_how_to_resume(tmp_path, mnist_path):
    args = ["--search-only", "--trials", "3", "--search-epochs", "3", "--train-sequences", "2000",
            "--validation-sequences", "64", "--data", mnist_path, "--out", str(tmp_path / "out")]  # fmt: skip
    log = tmp_path / "log"
    process = start_tuner(args, log)
    deadline = time.time() + 240
    while "started" not in log.read_text() and process.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(2)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 130
    text = log.read_text()
    assert "Traceback" not in text
    assert (
        text.rstrip().splitlines()[-1]
        == "stopped: nothing finished is lost; run the same command again to resume"
    )


# Mistakes are found before Keras is imported ----------------------------------------------------------

TRAIN_CLASSIFIER = str(ROOT / "experiments" / "train_classifier.py")
REPORT_IMPORTS = textwrap.dedent(
    """
    import runpy, sys

    target, sys.argv = sys.argv[1], sys.argv[1:]
    try:
        if target.endswith(".py"):
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    finally:
        heavy = sorted(name for name in ("keras", "tensorflow", "jax", "torch") if name in sys.modules)
        print("imported:", ",".join(heavy) or "none")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command, fragment",
    [
        (["mnist_vit", "predict", "--model", "m.keras", "missing.png"], "image missing.png does not exist"),
        (["mnist_vit", "predict", "--model", "missing.keras", "{digit}"], "model file missing.keras"),
        (["mnist_vit", "predict", "--model", "{digit}", "{digit}"], "is not a .keras model file"),
        (["mnist_vit", "predict", "--model", "m.keras", "{noise}"], "is not an image that can be read"),
        (["mnist_vit", "evaluate", "--model", "missing.keras", "--task", "sum"], "does not exist"),
        (["mnist_vit", "evaluate", "--model", "m.keras", "--task", "product"], "invalid choice"),
        (["mnist_vit", "evaluate", "--model", "{model}", "--task", "sum", "--data", "no.npz"], "no.npz"),
        ([RUN_TUNER, "--data", "no.npz", "--out", "{tmp}/run"], "no.npz"),
        ([RUN_TUNER, "--tuner", "grid"], "invalid choice"),
        ([RUN_TUNER, "--results", "{tmp}", "--out", "{tmp}/run"], "is a folder"),
        ([TRAIN_CLASSIFIER, "--data", "no.npz", "--out", "{tmp}/c"], "no.npz"),
    ],
)
def test_mistakes_are_reported_before_keras_is_imported(tmp_path, digits, command, fragment):
    files = {"tmp": tmp_path, "digit": tmp_path / "digit.png", "noise": tmp_path / "noise.png"}
    files["model"] = tmp_path / "m.keras"
    Image.fromarray(digits[0]).save(files["digit"])
    files["noise"].write_bytes(b"not a picture")
    with zipfile.ZipFile(files["model"], "w") as archive:  # a .keras file of the sum task by its looks
        declared = {"task": "sum", "input_layers": [["sequence", 0, 0], ["mask", 0, 0]]}
        archive.writestr("config.json", json.dumps({"class_name": "SumModel", "config": declared}))
    argv = [part.format(**files) for part in command]
    done = subprocess.run(
        [sys.executable, "-c", REPORT_IMPORTS, *argv],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=script_env(),
    )  # fmt: skip
    assert_one_error_line(done.returncode, done.stderr, fragment)
    assert done.stdout.strip().splitlines()[-1] == "imported: none"


# Options, model files and signals, round two --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "option, value",
    [("--learning-rate", "inf"), ("--learning-rate", "1e308"), ("--learning-rate", "nan"),
     ("--weight-decay", "nan"), ("--weight-decay", "inf"), ("--weight-decay", "-1"),
     ("--seed", "-1"), ("--seed", "4294967296"), ("--filters", "0"), ("--filters", "4096")],
)  # fmt: skip
def test_train_classifier_refuses_impossible_numbers_before_anything_is_written(tmp_path, option, value):
    done = subprocess.run(
        [sys.executable, TRAIN_CLASSIFIER, option, value, "--out", str(tmp_path / "c")],
        capture_output=True, text=True, timeout=120, env=script_env(),
    )  # fmt: skip
    assert_one_error_line(done.returncode, done.stderr, f"argument {option}: expected", "got")
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_the_classifier_writes_into_its_run_folder_unless_told_to_publish(tmp_path, mnist_path):
    published = ROOT / "experiments" / "results" / "classification.json"
    before = published.read_bytes()
    out = tmp_path / "c"
    command = [
        sys.executable,
        TRAIN_CLASSIFIER,
        "--epochs",
        "1",
        "--train-images",
        "256",
        "--filters",
        "4",
        "8",
        "--data",
        mnist_path,
    ]
    done = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=600,
                          env=script_env())  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert published.read_bytes() == before
    written = json.loads((out / "results.json").read_text())
    assert written["models"]["cnn"]["hyperparameters"]["epochs"] == 1
    assert written["models"]["cnn"]["hyperparameters"]["filters"] == [4, 8]
    wider = subprocess.run([*command[:-5], "--filters", "8", "16", *command[-2:], "--out", str(out)],
                           capture_output=True, text=True, timeout=600, env=script_env())  # fmt: skip
    assert_one_error_line(wider.returncode, wider.stderr, "other settings (filters [4, 8] -> [8, 16])")


def model_with_declared_config_size(source, target, size):
    """A copy of the `.keras` file `source` whose zip directory claims `config.json` holds `size` bytes."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo("config.json")
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = size.to_bytes(4, "little")  # uncompressed size
    target.write_bytes(bytes(data))
    return target


def test_a_model_file_that_declares_a_huge_config_is_refused_before_reading_it(
    tmp_path, models, digits, capsys
):
    crafted = model_with_declared_config_size(models / "sum.keras", tmp_path / "huge.keras", 4_000_000_000)
    with zipfile.ZipFile(crafted) as archive:
        assert archive.getinfo("config.json").file_size == 4_000_000_000
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    code, _, err = run_cli(["predict", "--model", crafted, tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "declares a config.json of 4,000,000,000 bytes")


def test_a_truncated_model_file_is_called_damaged(tmp_path, models, digits, capsys):
    (tmp_path / "cut.keras").write_bytes((models / "sum.keras").read_bytes()[:-300])
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    code, _, err = run_cli(["predict", "--model", tmp_path / "cut.keras", tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "cut.keras is damaged")


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path, models, capsys):
    code, _, err = run_cli(
        ["predict", "--model", models / "sum.keras", tmp_path / "seven\nand nine.png"], capsys
    )
    assert_one_error_line(code, err, "seven\\nand nine.png does not exist")


def test_a_model_of_another_task_is_named_with_the_task(tmp_path, models, digits, capsys):
    Image.fromarray(np.pad(digits[0], 8)).save(tmp_path / "d.png")
    code, _, err = run_cli(["predict", "--model", models / "anchor.keras", tmp_path / "d.png"], capsys)
    assert_one_error_line(code, err, "is a model of the anchor task: give the anchor image with --anchor")


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_while_stderr_is_silenced_still_prints_the_stop_line(stop):
    program = textwrap.dedent(
        f"""
        import os, time
        from mnist_vit.backends import quiet_native_stderr
        from mnist_vit.command_line import run_main

        def main():
            with quiet_native_stderr():  # as while a backend is imported
                os.kill(os.getpid(), {int(stop)})
                time.sleep(30)

        run_main(main, interrupted="stopped: run it again")
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 128 + stop
    assert done.stderr.strip().splitlines() == ["stopped: run it again"]
