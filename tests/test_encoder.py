import dataclasses

import keras
import numpy as np
import pytest
from conftest import digit_split
from fresh_process import predict_in_fresh_process
from model_helpers import TINY_ENCODER

from mnist_vit.augmentation import DigitAugmentation, batched_affine_transform
from mnist_vit.encoder import (
    DATA_FORMATS,
    EncoderConfig,
    build_classifier,
    build_encoder,
    default_data_format,
)


def test_output_shapes():
    encoder = build_encoder(TINY_ENCODER)
    classifier = build_classifier(encoder)
    images = np.random.default_rng(0).uniform(0, 255, (3, 28, 28, 1)).astype("float32")
    assert tuple(encoder.predict(images, verbose=0).shape) == (3, 16)
    probabilities = classifier.predict(images, verbose=0)
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_bad_encoder_settings_raise():
    with pytest.raises(ValueError, match="embed_dim and filters must be positive"):
        build_encoder(EncoderConfig(embed_dim=0))


def test_an_unknown_dtype_policy_is_named():
    with pytest.raises(ValueError, match="dtype_policy must be one of .* got 'float16'"):
        build_encoder(dataclasses.replace(TINY_ENCODER, dtype_policy="float16"))


def test_an_unknown_data_format_is_named():
    with pytest.raises(ValueError, match="data_format must be one of .* got 'nhwc'"):
        build_encoder(dataclasses.replace(TINY_ENCODER, data_format="nhwc"))


def test_the_default_data_format_is_channels_first_on_torch_only():
    expected = "channels_first" if keras.backend.backend() == "torch" else "channels_last"
    assert default_data_format() == expected
    assert build_encoder(TINY_ENCODER).get_layer("conv_0").data_format == expected


@pytest.mark.parametrize("augment", [False, True])
def test_both_data_formats_hold_the_same_weights_and_compute_the_same_embedding(augment):
    """Weights move between the layouts unchanged, in inference and in a training step's forward pass."""
    config = dataclasses.replace(TINY_ENCODER, augment=augment, encoder_dropout=0.0)
    last, first = (build_encoder(dataclasses.replace(config, data_format=f)) for f in DATA_FORMATS)
    keras.utils.set_random_seed(5)
    last.set_weights([np.random.default_rng(i).normal(size=w.shape) for i, w in enumerate(last.weights)])
    assert [w.shape for w in first.weights] == [w.shape for w in last.weights]
    first.set_weights(last.get_weights())
    assert first.get_layer("conv_0").data_format == "channels_first"
    assert first.get_layer("bn_0").axis == 1
    images = np.random.default_rng(0).uniform(0, 255, (6, 28, 28, 1)).astype("float32")
    expected = keras.ops.convert_to_numpy(last(images, training=False))
    embedded = keras.ops.convert_to_numpy(first(images, training=False))
    np.testing.assert_allclose(embedded, expected, rtol=1e-5, atol=1e-4)
    if not augment:  # training mode: batch statistics over each channel, in either layout
        trained = [keras.ops.convert_to_numpy(model(images, training=True)) for model in (last, first)]
        np.testing.assert_allclose(trained[1], trained[0], rtol=1e-5, atol=1e-4)
        assert not np.allclose(trained[0], expected, atol=1e-2)


def test_a_bfloat16_encoder_keeps_float32_weights_and_embedding_and_close_to_float32():
    images = np.random.default_rng(0).uniform(0, 255, (6, 28, 28, 1)).astype("float32")
    full = build_encoder(TINY_ENCODER)
    mixed = build_encoder(dataclasses.replace(TINY_ENCODER, dtype_policy="mixed_bfloat16"))
    mixed.set_weights(full.get_weights())
    assert mixed.get_layer("conv_0").compute_dtype == "bfloat16"
    assert mixed.get_layer("embedding").compute_dtype == "float32"
    assert {weight.dtype for weight in mixed.weights} == {"float32"}
    expected = keras.ops.convert_to_numpy(full(images))
    embedded = mixed(images)
    assert keras.backend.standardize_dtype(embedded.dtype) == "float32"
    embedded = keras.ops.convert_to_numpy(embedded)
    # bfloat16 keeps 8 significant bits: a relative error near 2**-8 per
    # operation, not float32's 2**-24
    scale = np.abs(expected).max()
    assert 0 < np.abs(embedded - expected).max() < 0.05 * scale


def test_augmentation_only_in_training():
    encoder = build_encoder(dataclasses.replace(TINY_ENCODER, augment=True))
    images = np.random.default_rng(0).uniform(0, 255, (4, 28, 28, 1)).astype("float32")
    inference = [keras.ops.convert_to_numpy(encoder(images, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(encoder(images)), inference[0])
    augmented = encoder.get_layer("augment")(images, training=True)
    assert not np.allclose(keras.ops.convert_to_numpy(augmented), images / 255.0)


def test_augmentation_without_range_is_the_identity():
    images = np.random.default_rng(0).uniform(0, 1, (3, 28, 28, 1)).astype("float32")
    layer = DigitAugmentation(rotation=0.0, shift=0.0, zoom=0.0, seed=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(images, training=True)), images, atol=1e-5)


def test_augmentation_moves_a_dot_within_its_shift_range():
    images = np.zeros((64, 28, 28, 1), "float32")
    images[:, 14, 10, 0] = 1.0
    layer = DigitAugmentation(rotation=0.0, shift=0.1, zoom=0.0, seed=2)
    moved = keras.ops.convert_to_numpy(layer(images, training=True))[..., 0]
    rows, cols = np.indices((28, 28))
    mass = moved.sum(axis=(1, 2))
    offset_rows = (moved * rows).sum(axis=(1, 2)) / mass - 14
    offset_cols = (moved * cols).sum(axis=(1, 2)) / mass - 10
    assert np.all(np.abs(offset_rows) <= 2.8 + 1e-4) and np.all(np.abs(offset_cols) <= 2.8 + 1e-4)
    assert np.std(offset_rows) > 0.5 and np.std(offset_cols) > 0.5


@pytest.mark.parametrize("shape", [(28, 28, 2), (20, 31, 1)])  # channels; rows and columns not alike
def test_batched_affine_transform_is_keras_affine_transform(shape):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (6, *shape)).astype("float32")
    angle, scale = rng.uniform(-0.5, 0.5, 6), rng.uniform(0.8, 1.2, 6)
    shift = rng.uniform(-20, 20, (6, 2))  # some far enough to move the digit off the image
    transforms = np.stack(
        [
            scale * np.cos(angle), -scale * np.sin(angle), shift[:, 0],
            scale * np.sin(angle), scale * np.cos(angle), shift[:, 1],
            np.zeros(6), np.zeros(6),
        ],
        axis=1,
    ).astype("float32")  # fmt: skip
    ours = batched_affine_transform(
        keras.ops.convert_to_tensor(images), keras.ops.convert_to_tensor(transforms)
    )
    # A copy each: Keras's torch transform swaps the rows of the matrix it is given in place.
    keras_own = keras.ops.image.affine_transform(
        keras.ops.convert_to_tensor(images),
        keras.ops.convert_to_tensor(transforms.copy()),
        fill_mode="constant",
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(keras_own), atol=1e-5
    )


def test_batched_affine_transform_shifts_by_whole_pixels():
    images = np.random.default_rng(1).uniform(0, 1, (1, 28, 28, 1)).astype("float32")
    shift = np.array([[1, 0, 2, 0, 1, -3, 0, 0]], "float32")  # output (x, y) reads input (x + 2, y - 3)
    moved = keras.ops.convert_to_numpy(batched_affine_transform(images, shift))
    np.testing.assert_allclose(moved[0, 3:, :26], images[0, :25, 2:], atol=1e-6)
    assert (moved[0, :3] == 0).all() and (moved[0, :, 26:] == 0).all()


def test_augmentation_rejects_a_range_of_a_full_turn():
    with pytest.raises(ValueError, match="rotation must be in"):
        DigitAugmentation(rotation=1.5)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="jit is resolved per backend; jax always jits")
def test_model_with_augmentation_compiles_with_jit():
    model = build_classifier(build_encoder(dataclasses.replace(TINY_ENCODER, augment=True)))
    model.compile("adam", "sparse_categorical_crossentropy")
    assert model.jit_compile


def test_a_few_fit_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    split = digit_split(256)
    x = split.images[..., None].astype("float32")
    model = build_classifier(build_encoder(TINY_ENCODER))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    history = model.fit(x, split.labels, epochs=6, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dtype_policy", "data_format"), [("float32", "channels_last"), ("mixed_bfloat16", "channels_first")]
)
def test_keras_file_round_trip_in_fresh_process(tmp_path, dtype_policy, data_format):
    config = dataclasses.replace(
        TINY_ENCODER, augment=True, dtype_policy=dtype_policy, data_format=data_format
    )
    model = build_classifier(build_encoder(config))
    images = np.random.default_rng(1).uniform(0, 255, (5, 28, 28, 1)).astype("float32")
    path = tmp_path / "classifier.keras"
    model.save(path)
    expected = model.predict(images, verbose=0)
    np.testing.assert_allclose(predict_in_fresh_process(path, images, tmp_path), expected, atol=1e-6)
