"""Class coverage and Stacked MNIST mode counts on hand-countable label sets."""

import math

import numpy as np
import pytest

from gan_jax.evaluation import modes


def test_kl_divergence():
  assert modes.kl_divergence([1, 1], [5, 5]) == 0.0
  assert modes.kl_divergence([1, 0], [1, 1]) == pytest.approx(math.log(2))
  assert modes.kl_divergence([1, 1], [1, 0]) == float("inf")
  assert modes.kl_divergence([3, 1], [1, 1]) == pytest.approx(
      0.75 * math.log(1.5) + 0.25 * math.log(0.5))


def test_all_classes_equally_is_full_coverage():
  labels = np.repeat(np.arange(10), 30)
  result = modes.class_coverage(labels, 10, reference_histogram=np.full(10, 7))
  assert result["classes_covered"] == 10
  assert result["kl_uniform"] == pytest.approx(0.0, abs=1e-12)
  assert result["kl_reference"] == pytest.approx(0.0, abs=1e-12)
  assert result["histogram"] == [30] * 10


def test_one_class_only():
  result = modes.class_coverage(np.full(500, 3), 10, reference_histogram=np.ones(10))
  assert result["classes_covered"] == 1
  assert result["kl_uniform"] == pytest.approx(math.log(10))
  assert result["kl_reference"] == pytest.approx(math.log(10))


def test_classes_below_one_percent_are_not_covered():
  """1000 samples: class 0 has 985, class 1 has 10 (1%: counted), class 2 has 5 (0.5%: not)."""
  labels = np.array([0] * 985 + [1] * 10 + [2] * 5)
  result = modes.class_coverage(labels, 10)
  assert result["classes_covered"] == 2
  assert "kl_reference" not in result
  assert result["kl_uniform"] == pytest.approx(
      sum(p * math.log(p * 10) for p in (0.985, 0.01, 0.005)))


def test_stacked_mnist_modes():
  digits = np.array([[1, 2, 3], [0, 0, 0], [9, 9, 9], [1, 2, 3]])
  np.testing.assert_array_equal(modes.stacked_mnist_modes(digits), [123, 0, 999, 123])
  result = modes.stacked_mnist_coverage(digits)
  assert result["modes_covered"] == 3
  # p = (1/4, 1/4, 1/2) on 3 of 1000 modes.
  assert result["kl_uniform"] == pytest.approx(
      0.5 * math.log(0.25 * 1000) + 0.5 * math.log(0.5 * 1000))


def test_every_stacked_mode_once_is_uniform():
  all_digits = np.array([[m // 100, m // 10 % 10, m % 10] for m in range(1000)])
  result = modes.stacked_mnist_coverage(all_digits)
  assert result["modes_covered"] == 1000
  assert result["kl_uniform"] == pytest.approx(0.0, abs=1e-12)


def test_make_stacked_mnist_channels_are_the_labelled_digits():
  images = np.arange(5)[:, None, None, None] * np.ones((5, 28, 28, 1), np.uint8)
  labels = np.array([4, 3, 2, 1, 0])
  stacked, true_modes = modes.make_stacked_mnist(images, labels, 100, np.random.default_rng(0))
  assert stacked.shape == (100, 28, 28, 3)
  channel_labels = labels[stacked[:, 0, 0, :]]  # pixel value = image index
  np.testing.assert_array_equal(modes.stacked_mnist_modes(channel_labels), true_modes)
