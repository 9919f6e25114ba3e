import json

import keras
import numpy as np
import pytest
from conftest import digit_split
from fresh_process import predict_in_fresh_process
from model_helpers import (
    TINY,
    TOO_MANY_SLOTS,
    random_inputs,
    tiny_model,
    with_extra_slots,
    with_noisy_padding,
)

from mnist_vit.digit_head import MostLikelySum
from mnist_vit.sequences import TEST_SEED, SequenceBatches
from mnist_vit.tasks import get_task
from mnist_vit.training import evaluate_sequence_model, train_sequence_model

LENGTHS = [1, 4, 10]


def tiny_models():
    return {
        "transformer": tiny_model("sum", "transformer"),
        "deepsets": tiny_model("sum", "deepsets"),
        "fc": tiny_model("sum", "fc"),
    }


@pytest.mark.parametrize("name", ["transformer", "deepsets", "fc"])
def test_output_shape(name):
    model = tiny_models()[name]
    assert model.predict(random_inputs(LENGTHS), verbose=0).shape == (3, 1)


@pytest.mark.parametrize("name", ["transformer", "deepsets", "fc"])
def test_padding_content_does_not_change_predictions(name):
    model = tiny_models()[name]
    inputs = random_inputs(LENGTHS)
    clean = model.predict(inputs, verbose=0)
    noisy = model.predict(with_noisy_padding(inputs), verbose=0)
    np.testing.assert_allclose(noisy, clean, atol=1e-5)


@pytest.mark.parametrize("name", ["transformer", "deepsets"])
def test_extra_padded_slots_do_not_change_predictions(name):
    model = tiny_models()[name]
    inputs = random_inputs(LENGTHS)
    clean = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(model.predict(with_extra_slots(inputs), verbose=0), clean, atol=1e-5)


def test_transformer_output_counts_slots():
    model = tiny_model("sum", "transformer")
    inputs = random_inputs(LENGTHS)
    # Uniform digit distributions: every real slot is worth 4.5, the mean digit, in the expected sum.
    logits = model.get_layer("digit_logits")
    logits.set_weights([np.zeros_like(w) for w in logits.get_weights()])
    _, expected, _ = model(inputs, training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(expected)[:, 0], 4.5 * np.array(LENGTHS), rtol=1e-5)
    # Confident slots: the prediction is an integer, digit value times the count.
    logits.set_weights([np.zeros_like(logits.get_weights()[0]), np.eye(10)[7] * 50])
    predictions = model.predict(inputs, verbose=0)[:, 0]
    np.testing.assert_allclose(predictions, 7.0 * np.array(LENGTHS), rtol=1e-5)


def test_prediction_is_the_most_likely_sum_moved_toward_the_expected_sum():
    logits = np.full((2, 3, 10), -5.0, dtype="float32")
    logits[0, 0, [4, 9]] = [1.0, 0.9]  # a slot that is a 4 or a 9; its expected value is about 6.5
    logits[0, 1, 2] = 5.0
    logits[0, 2, 9] = 5.0  # padding
    logits[1, :, 7] = 5.0
    expected = np.array([[8.6], [21.2]], dtype="float32")
    mask = np.array([[True, True, False], [True, True, True]])
    prediction = keras.ops.convert_to_numpy(MostLikelySum()(logits, expected, mask))
    np.testing.assert_allclose(prediction[:, 0], [6.49, 21.2], rtol=1e-6)


def test_fc_takes_up_to_10_slots_and_pads_the_rest():
    model = tiny_model("sum", "fc")
    inputs = random_inputs([3, 7], slots=7)
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0),
        model.predict(with_extra_slots(inputs, extra=3), verbose=0),
        atol=1e-5,
    )
    with pytest.raises(Exception, match=TOO_MANY_SLOTS):
        model.predict(random_inputs([3, 12], slots=12), verbose=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["transformer", "fc"])
def test_keras_file_round_trip_in_fresh_process(tmp_path, name):
    model = tiny_models()[name]
    path = tmp_path / f"{name}.keras"
    model.save(path)
    inputs = random_inputs(LENGTHS)
    expected = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(predict_in_fresh_process(path, inputs, tmp_path), expected, atol=1e-6)


def test_short_fit_beats_constant_predictor(tmp_path):
    task = get_task("sum")
    splits = {"train": digit_split(400, seed=0), "validation": digit_split(200, seed=1)}
    model, history = train_sequence_model(
        task,
        "transformer",
        TINY,
        splits,
        str(tmp_path / "run"),
        epochs=8,
        train_sequences=1024,
        validation_sequences=128,
        lengths=(1, 2),
        verbose=0,
    )
    # Short sequences (few input shapes to compile) keep it fast; the model still reads every digit.
    metrics = evaluate_sequence_model(task, model, splits["validation"], 400, lengths=(1, 2))
    targets = SequenceBatches(
        splits["validation"], task, 400, 256, seed=TEST_SEED, lengths=(1, 2)
    ).served_targets()
    _, counts = np.unique(targets, return_counts=True)
    constant_accuracy = counts.max() / len(targets)
    assert metrics["exact_accuracy"] > constant_accuracy + 0.2
    # Every epoch runs; the model at the end is returned and saved, the best epoch's beside it.
    assert len(history["loss"]) == 8 and history["elapsed_seconds"] == sorted(history["elapsed_seconds"])

    def same_weights(path):
        saved = keras.saving.load_model(tmp_path / "run" / path)
        return all(
            np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
            for a, b in zip(saved.weights, model.weights, strict=True)
        )

    best_epoch = json.loads((tmp_path / "run" / "best.keras.best.json").read_text())["epoch"]
    assert same_weights("final.keras")
    assert same_weights("best.keras") == (best_epoch == 8)
    assert (tmp_path / "run" / "history.csv").exists()


def test_exact_accuracy_metric():
    from mnist_vit.counting import ExactAccuracy

    metric = ExactAccuracy()
    metric.update_state(np.float32([[3.0], [5.0], [7.0]]), np.float32([[3.4], [5.6], [6.5]]))
    assert float(keras.ops.convert_to_numpy(metric.result())) == pytest.approx(1 / 3)
