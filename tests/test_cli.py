"""`python -m mnist_vit predict|evaluate`: answers, image conversion and every bad input."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from model_helpers import tiny_model
from PIL import Image
from run_script import run_cli, script_env

from mnist_vit.images import load_digit_image


def mnist_digits(path, count):
    with np.load(path) as data:
        return data["x_test"][:count], data["y_test"][:count]


@pytest.fixture(scope="module")
def files(tmp_path_factory, mnist_path):
    """Tiny untrained models, digit pictures in several styles, and bad files, in one folder."""
    folder = tmp_path_factory.mktemp("cli")
    images, _ = mnist_digits(mnist_path, 12)
    for i, image in enumerate(images):
        big = np.kron(image, np.ones((4, 4), np.uint8))  # 112x112
        Image.fromarray(255 - big).save(folder / f"dark_on_light_{i}.png")
        Image.fromarray(np.pad(image, ((10, 30), (5, 5)))).save(folder / f"light_on_dark_{i}.jpg", quality=95)
    tiny_model("sum", "transformer").save(folder / "sum.keras")
    tiny_model("sum", "fc").save(folder / "sum_fc.keras")
    tiny_model("anchor", "transformer").save(folder / "anchor.keras")
    tiny_model("ascents", "transformer").save(folder / "ascents.keras")
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]).save(folder / "not_mnist_vit.keras")
    (folder / "truncated.keras").write_bytes((folder / "sum.keras").read_bytes()[:400])
    (folder / "text.png").write_text("not an image")
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(folder / "blank.png")
    return folder


@pytest.mark.parametrize("style", ["dark_on_light_{}.png", "light_on_dark_{}.jpg"])
def test_pictures_become_mnist_style(files, mnist_path, style):
    images, _ = mnist_digits(mnist_path, 12)
    for i, original in enumerate(images):
        converted = load_digit_image(files / style.format(i))
        assert converted.shape == (28, 28, 1) and converted.dtype == np.float32
        correlation = np.corrcoef(converted.ravel(), original.astype(float).ravel())[0, 1]
        assert correlation > 0.9, (i, correlation)


def test_predict_sum_prints_the_model_output_on_the_converted_images(files, capsys):
    paths = [files / f"dark_on_light_{i}.png" for i in range(3)]
    code, out, err = run_cli(["predict", "--model", files / "sum.keras", *paths], capsys)
    assert code == 0, err
    sequence = np.stack([load_digit_image(path) for path in paths])[None]
    model = keras.saving.load_model(files / "sum.keras")
    expected = float(model.predict({"sequence": sequence, "mask": np.ones((1, 3), bool)}, verbose=0)[0, 0])
    assert f"predicted sum: {round(expected)} (model output {expected:.3f}) for 3 images" in out


def test_predict_pads_images_for_a_fixed_length_model(files, capsys):
    code, out, err = run_cli(
        ["predict", "--model", files / "sum_fc.keras", files / "dark_on_light_0.png"], capsys
    )
    assert code == 0, err
    assert "for 1 images" in out


def test_predict_anchor_prints_answer_and_probability(files, capsys):
    argv = ["predict", "--model", files / "anchor.keras", "--anchor", files / "dark_on_light_0.png"]
    code, out, err = run_cli([*argv, files / "dark_on_light_1.png", files / "dark_on_light_2.png"], capsys)
    assert code == 0, err
    probability = float(out.split("probability ")[1].split(")")[0])
    answer = "yes" if probability >= 0.5 else "no"
    assert out.startswith(f"anchor's digit occurs: {answer} (probability")


def test_predict_answers_an_order_task_in_its_own_words(files, capsys):
    paths = [files / f"dark_on_light_{i}.png" for i in range(4)]
    code, out, err = run_cli(["predict", "--model", files / "ascents.keras", *paths], capsys)
    assert code == 0, err
    assert out.startswith("ascents: ") and "in 4 images" in out and "confidence: " in out


def test_evaluate_reports_the_task_metrics(files, mnist_path, capsys):
    argv = ["evaluate", "--model", files / "sum_fc.keras", "--task", "sum", "--data", mnist_path]
    code, out, err = run_cli([*argv, "--split", "validation", "--sequences", "64"], capsys)
    assert code == 0, err
    assert "on 64 fixed validation sequences" in out
    for key in ("exact_accuracy:", "mse:", "mae:", "exact_accuracy_by_length: 1:"):
        assert key in out


BAD_INPUTS = {
    "missing image": (["predict", "--model", "sum.keras", "missing.png"], "missing.png does not exist"),
    "not an image": (["predict", "--model", "sum.keras", "text.png"], "text.png is not an image"),
    "blank image": (["predict", "--model", "sum.keras", "blank.png"], "blank"),
    "folder as image": (["predict", "--model", "sum.keras", "."], "is a folder"),
    "zero images": (["predict", "--model", "sum.keras"], "required: IMAGE"),
    "too many images": (["predict", "--model", "sum_fc.keras", *["dark_on_light_0.png"] * 11], "at most 10"),
    "more images than positions": (
        ["predict", "--model", "ascents.keras", *["dark_on_light_0.png"] * 11],
        "takes at most 10 images, got 11",
    ),
    "anchor with sum model": (
        ["predict", "--model", "sum.keras", "--anchor", "dark_on_light_0.png", "dark_on_light_1.png"],
        "takes no --anchor",
    ),
    "anchor model without anchor": (
        ["predict", "--model", "anchor.keras", "dark_on_light_1.png"],
        "--anchor",
    ),
    "missing model": (["predict", "--model", "nowhere.keras", "dark_on_light_0.png"], "does not exist"),
    "truncated model": (
        ["predict", "--model", "truncated.keras", "dark_on_light_0.png"],
        "truncated.keras is damaged",
    ),
    "image as model": (["predict", "--model", "blank.png", "dark_on_light_0.png"], "not a .keras model"),
    "other keras model": (
        ["predict", "--model", "not_mnist_vit.keras", "dark_on_light_0.png"],
        "not a mnist_vit",
    ),
    "model of the other task": (["evaluate", "--model", "sum.keras", "--task", "anchor"], "sum task"),
    "unknown task": (["evaluate", "--model", "sum.keras", "--task", "product"], "invalid choice: 'product'"),
    "unknown split": (["evaluate", "--model", "sum.keras", "--task", "sum", "--split", "train"], "'train'"),
    "zero sequences": (["evaluate", "--model", "sum.keras", "--task", "sum", "--sequences", "0"], "got 0"),
    "non-numeric sequences": (
        ["evaluate", "--model", "sum.keras", "--task", "sum", "--sequences", "x"],
        "'x'",
    ),
    "missing data file": (
        ["evaluate", "--model", "sum.keras", "--task", "sum", "--data", "nowhere.npz"],
        "nowhere.npz",
    ),
    "corrupt data file": (
        ["evaluate", "--model", "sum.keras", "--task", "sum", "--data", "text.png"],
        "text.png",
    ),
    "unknown command": (["train"], "invalid choice: 'train'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(files, capsys, monkeypatch, case):
    argv, expected = BAD_INPUTS[case]
    monkeypatch.chdir(files)
    before = sorted(os.listdir(files))
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert expected in err
    assert "Traceback" not in err + out
    assert sorted(os.listdir(files)) == before


@pytest.mark.slow
def test_module_entry_point_runs_as_a_separate_process(files):
    command = [sys.executable, "-m", "mnist_vit", "predict", "--model", "sum.keras", "dark_on_light_0.png"]
    env = {key: value for key, value in script_env().items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(command, cwd=files, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "predicted sum:" in done.stdout
    # No start-up lines of TensorFlow, no Keras warnings: only the command's own warnings (an untrained
    # model may read the picture with low confidence).
    assert all(line.startswith("warning: ") for line in done.stderr.splitlines()), done.stderr
    bad = subprocess.run(command[:-1] + ["missing.png"], cwd=files, capture_output=True, text=True,
                         env=script_env(), timeout=120)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["error: image missing.png does not exist"]
    assert "Traceback" not in bad.stderr


# Mistakes found before Keras is imported: Keras writes ~/.keras/keras.json at import, and its import
# brings in matplotlib, which writes its font cache.
MISTAKES_BEFORE_KERAS = ("anchor with sum model", "anchor model without anchor", "model of the other task")


@pytest.mark.slow
@pytest.mark.parametrize("case", MISTAKES_BEFORE_KERAS)
def test_a_mistake_leaves_a_clean_home_as_it_was(files, tmp_path, case):
    argv, expected = BAD_INPUTS[case]
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in script_env(HOME=str(home)).items()
           if key not in ("KERAS_HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "mnist_vit", *argv], cwd=files, capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 2 and expected in done.stderr
    assert list(home.rglob("*")) == []
