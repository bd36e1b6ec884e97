"""2-D mixtures: layouts, modes captured and high-quality fraction on known cases, the plot."""

import math

import jax
import numpy as np
import pytest

from gan_jax.evaluation import mixtures, plots


def test_layouts_match_pacgan():
  ring, grid = mixtures.MIXTURES["toy2d_ring8"], mixtures.MIXTURES["toy2d_grid25"]
  assert ring.num_modes == 8 and ring.std == 0.01
  np.testing.assert_allclose(np.linalg.norm(ring.centres, axis=1), np.ones(8))
  np.testing.assert_allclose(ring.centres[2], [0.0, 1.0], atol=1e-12)
  assert grid.num_modes == 25 and grid.std == 0.05
  assert sorted(set(grid.centres[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]


@pytest.mark.parametrize("name", ["toy2d_ring8", "toy2d_grid25"])
def test_samples_of_the_mixture_capture_every_mode(name):
  """For a 2-D isotropic Gaussian, P(|x - mu| <= 3 std) = 1 - exp(-9/2) = 0.98889."""
  mixture = mixtures.MIXTURES[name]
  samples = mixture.sample(jax.random.key(0), 20_000)
  result = mixtures.mode_statistics(samples, mixture)
  assert result["modes_captured"] == mixture.num_modes
  assert result["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.003)


def test_hand_counted_modes():
  """Points exactly on centres 0, 1 and 5 of the ring, two just outside 3 std, one at the
  origin (1.0 from every centre): 3 modes, 4 of 7 samples high quality."""
  ring = mixtures.MIXTURES["toy2d_ring8"]
  samples = np.concatenate([ring.centres[[0, 1, 5, 5]],
                            ring.centres[[2, 3]] + [0.0, 3.01 * ring.std], [[0.0, 0.0]]])
  result = mixtures.mode_statistics(samples, ring)
  assert result["modes_captured"] == 3
  assert result["high_quality_fraction"] == pytest.approx(4 / 7)
  assert result["mode_counts"] == [1, 1, 0, 0, 0, 2, 0, 0]


def test_collapse_onto_one_mode():
  grid = mixtures.MIXTURES["toy2d_grid25"]
  samples = grid.centres[12] + 0.01 * np.random.default_rng(0).normal(size=(2500, 2))
  result = mixtures.mode_statistics(samples, grid)
  assert result["modes_captured"] == 1 and result["high_quality_fraction"] == 1.0


def test_scatter_plot_is_an_rgb_image():
  ring = mixtures.MIXTURES["toy2d_ring8"]
  image = plots.mixture_scatter_image(ring.sample(jax.random.key(1), 500), ring, title="ring")
  assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
  assert image.shape[0] > 200 and image.std() > 10  # not blank


def test_histogram_plot_is_an_rgb_image():
  image = plots.class_histogram_image([5, 0, 3], [1, 1, 1], ["a", "b", "c"], title="t")
  assert image.dtype == np.uint8 and image.shape[2] == 3 and image.std() > 10


def test_reverse_kl_is_log_k_minus_the_entropy_of_the_high_quality_modes():
  """PacGAN's logged entropy of the high-quality samples' mode histogram: KL = log K - H."""
  mixture = mixtures.MIXTURES["toy2d_ring8"]
  # 3 samples at mode 0, 1 at mode 1, one far from every centre (not counted).
  samples = np.stack([mixture.centres[0]] * 3 + [mixture.centres[1], [5.0, 5.0]])
  result = mixtures.mode_statistics(samples, mixture)
  p = np.array([0.75, 0.25])
  assert result["reverse_kl"] == pytest.approx(math.log(8) + float(np.sum(p * np.log(p))))
  assert result["mode_counts"][:2] == [3, 1] and result["high_quality_fraction"] == 0.8
  # All modes equally hit: 0; no high-quality sample: undefined.
  assert mixtures.mode_statistics(mixture.centres, mixture)["reverse_kl"] == pytest.approx(0.0)
  assert math.isnan(mixtures.mode_statistics(np.full((4, 2), 9.0), mixture)["reverse_kl"])
