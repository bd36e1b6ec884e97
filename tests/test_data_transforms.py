"""Image transformations: exact pixels for crops, resizes, flips, channel changes and scaling."""

import numpy as np
import pytest
import tensorflow as tf

from gan_jax.data import transforms
from gan_jax.data.settings import DataSettings


def _ramp(height, width, channels=1):
  return np.arange(height * width * channels, dtype=np.uint8).reshape(height, width, channels)


def test_center_crop_takes_the_middle_square():
  image = _ramp(4, 6)
  np.testing.assert_array_equal(transforms.center_crop(tf.constant(image)).numpy(),
                                image[:, 1:5])
  np.testing.assert_array_equal(transforms.center_crop(tf.constant(image), 2).numpy(),
                                image[1:3, 2:4])
  # A crop larger than the image is the shorter side.
  assert transforms.center_crop(tf.constant(image), 50).shape == (4, 4, 1)


def test_random_crop_places_each_square_where_its_numbers_say():
  images = np.stack([_ramp(5, 7), _ramp(5, 7) + 100])
  uniform = tf.constant([[0.0, 0.0], [0.999, 0.999]])
  crops = transforms.random_crop(tf.constant(images), 3, uniform).numpy()
  np.testing.assert_array_equal(crops[0], images[0, :3, :3])  # top-left corner
  np.testing.assert_array_equal(crops[1], images[1, 2:, 4:])  # bottom-right corner


def test_area_resize_averages_blocks_and_rounds():
  image = np.array([[0, 2, 10, 10], [4, 6, 10, 11], [0, 0, 255, 255], [0, 1, 255, 255]],
                   np.uint8)[..., None]
  resized = transforms.resize(tf.constant(image), 2, "area").numpy()
  # Block means 3, 10.25, 0.25, 255 -> rounded.
  np.testing.assert_array_equal(resized[..., 0], [[3, 10], [0, 255]])
  assert resized.dtype == np.uint8


@pytest.mark.parametrize("method", ["area", "bilinear", "bicubic", "nearest"])
def test_every_resize_method_gives_the_size_and_keeps_a_constant_image(method):
  image = np.full((30, 20, 3), 77, np.uint8)
  resized = transforms.resize(tf.constant(image), 8, method).numpy()
  assert resized.shape == (8, 8, 3)
  np.testing.assert_array_equal(resized, 77)


def test_channels_grayscale_and_rgb():
  gray = _ramp(2, 2)
  rgb = transforms.convert_channels(tf.constant(gray), 3).numpy()
  np.testing.assert_array_equal(rgb, np.repeat(gray, 3, axis=-1))
  colours = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], np.uint8)
  luma = transforms.convert_channels(tf.constant(colours), 1).numpy()
  # ITU-R 601: 0.2989 R + 0.5870 G + 0.1140 B, rounded.
  np.testing.assert_array_equal(luma[0, :, 0], [76, 150, 29, 255])
  rgba = np.zeros((1, 1, 4), np.uint8)
  assert transforms.convert_channels(tf.constant(rgba), 3).shape == (1, 1, 3)


def test_finish_flips_where_the_number_is_below_one_half_and_scales():
  images = np.stack([_ramp(2, 3), _ramp(2, 3)]) * 50
  settings = DataSettings(random_flip=True, value_range=(-1.0, 1.0))
  uniform = tf.constant([[0.0, 0.0, 0.2], [0.0, 0.0, 0.7]])
  out = transforms.finish(tf.constant(images), settings, uniform).numpy()
  expected = images.astype(np.float32) / 127.5 - 1.0
  np.testing.assert_allclose(out[0], expected[0, :, ::-1], atol=1e-6)
  np.testing.assert_allclose(out[1], expected[1], atol=1e-6)
  assert out.dtype == np.float32 and out.min() == -1.0


def test_prepare_center_crops_then_resizes():
  settings = DataSettings(crop="center", image_size=2, channels=3)
  image = np.zeros((6, 10, 1), np.uint8)
  image[:, 2:8] = 200  # the central 6x6 square
  out = transforms.prepare(tf.constant(image), settings).numpy()
  assert out.shape == (2, 2, 3)
  np.testing.assert_array_equal(out, 200)


def test_output_shapes():
  assert transforms.output_shape((300, 300, 3), DataSettings(image_size=64)) == (64, 64, 3)
  assert transforms.output_shape((218, 178, 3), DataSettings(crop="center")) == (178, 178, 3)
  assert transforms.output_shape((None, None, 3), DataSettings()) == (None, None, 3)
  assert transforms.output_shape((28, 28, 1), DataSettings(channels=3)) == (28, 28, 3)
  random_crop = DataSettings(crop="random", crop_size=24)
  assert transforms.prepared_shape((28, 28, 1), random_crop) == (28, 28, 1)
  assert transforms.output_shape((28, 28, 1), random_crop) == (24, 24, 1)
