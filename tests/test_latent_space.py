"""gan_jax.latent_space: latents by (seed, index), interpolation and latent arithmetic."""

import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import latent_space
from gan_jax.errors import UserError


def test_latents_depend_only_on_seed_and_index():
  many = np.asarray(latent_space.latents(3, 100, 16))
  assert many.shape == (100, 16) and many.dtype == np.float32
  np.testing.assert_array_equal(np.asarray(latent_space.latents(3, [17, 2], 16)), many[[17, 2]])
  np.testing.assert_array_equal(np.asarray(latent_space.latents(3, 10, 16)), many[:10])
  assert not np.allclose(np.asarray(latent_space.latents(4, 10, 16)), many[:10])
  # Standard normal: 1,600 draws have mean ~0 and std ~1 (6 standard errors of slack).
  assert abs(many.mean()) < 6 / 40 and abs(many.std() - 1) < 6 * 0.0177


def test_uniform_prior_is_dcgan_tensorflows_and_addressed_alike():
  """U(-1, 1) per coordinate (PacGAN's Stacked MNIST code); sample i of seed s is the same
  latent however many are drawn."""
  z = np.asarray(latent_space.latents(3, 4_000, 5, "uniform"))
  assert z.min() >= -1.0 and z.max() <= 1.0
  np.testing.assert_allclose(z.mean(), 0.0, atol=0.02)
  np.testing.assert_allclose(z.var(), 1 / 3, rtol=0.03)  # Var U(-1, 1) = 1/3.
  np.testing.assert_array_equal(np.asarray(latent_space.latents(3, [17], 5, "uniform"))[0], z[17])
  assert not np.allclose(np.asarray(latent_space.latents(3, [17], 5))[0], z[17])
  with pytest.raises(ValueError, match="Unknown latent distribution 'cauchy'"):
    latent_space.draw(None, (2, 2), "cauchy")


def test_lerp_and_slerp_endpoints_and_midpoints():
  a, b = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
  np.testing.assert_allclose(latent_space.lerp(a, b, 0.5), [0.5, 0.5])
  np.testing.assert_allclose(latent_space.slerp(a, b, 0.5), [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-7)
  np.testing.assert_allclose(latent_space.slerp(a, b, 1 / 3), [np.cos(np.pi / 6), 0.5], atol=1e-7)
  z0, z1 = latent_space.latents(0, 2, 100)
  path = latent_space.interpolate(z0, z1, 7, method="slerp")
  assert path.shape == (7, 100)
  np.testing.assert_allclose(path[0], z0, atol=1e-5)
  np.testing.assert_allclose(path[-1], z1, atol=1e-5)
  line = latent_space.interpolate(z0, z1, 7, method="linear")
  np.testing.assert_array_equal(line[0], z0)
  np.testing.assert_allclose(line[3], (z0 + z1) / 2, atol=1e-6)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
  z0, z1 = latent_space.latents(1, 2, 100)
  z1 = z1 * jnp.linalg.norm(z0) / jnp.linalg.norm(z1)
  norms = jnp.linalg.norm(latent_space.interpolate(z0, z1, 11, method="slerp"), axis=-1)
  np.testing.assert_allclose(norms, jnp.linalg.norm(z0), rtol=1e-5)
  # The straight line sags towards the origin in between: |midpoint| ~ |z| / sqrt(2) here.
  line_norms = jnp.linalg.norm(latent_space.interpolate(z0, z1, 11, method="linear"), axis=-1)
  assert line_norms[5] < 0.8 * norms[5]


def test_slerp_of_parallel_vectors_is_the_straight_line():
  z = jnp.array([1.0, 2.0, 3.0])
  np.testing.assert_allclose(latent_space.slerp(z, 2 * z, 0.5), 1.5 * z, rtol=1e-6)
  np.testing.assert_allclose(latent_space.slerp(z, z, jnp.linspace(0, 1, 4)), jnp.stack([z] * 4),
                             rtol=1e-6)


def test_interpolate_rejects_bad_arguments():
  z = jnp.ones(3)
  with pytest.raises(UserError, match="method 'cubic' is invalid"):
    latent_space.interpolate(z, z, 5, method="cubic")
  with pytest.raises(UserError, match="at least 2 steps"):
    latent_space.interpolate(z, z, 1)


def test_latent_arithmetic_on_known_latents():
  terms = [(1, [[1.0, 2.0], [3.0, 4.0]]), (-1, [[1.0, 1.0]]), (1, [[0.0, 5.0], [2.0, 5.0]])]
  np.testing.assert_array_equal(latent_space.latent_arithmetic(terms), [2.0, 7.0])
  with pytest.raises(UserError, match="at least one term"):
    latent_space.latent_arithmetic([])


def test_variations_start_at_the_result_and_stay_within_the_noise():
  z = jnp.arange(6, dtype=jnp.float32)
  near = latent_space.variations(z, 5, noise=0.25, seed=3)
  assert near.shape == (5, 6)
  np.testing.assert_array_equal(near[0], z)
  offsets = np.asarray(near[1:] - z)
  assert np.abs(offsets).max() <= 0.25 and np.abs(offsets).min() > 0
  np.testing.assert_array_equal(near, latent_space.variations(z, 5, noise=0.25, seed=3))
