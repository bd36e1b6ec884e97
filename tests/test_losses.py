"""Losses against hand-computed values."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import losses


def test_bce_at_zero_logit_is_log_two():
  assert float(losses.sigmoid_binary_cross_entropy(jnp.zeros(4), jnp.ones(4))) == pytest.approx(
      math.log(2), rel=1e-6)


def test_discriminator_loss_hand_computed():
  # real logit 2 -> -log sigmoid(2) = log(1 + e^-2); fake logit -1 -> -log(1 - sigmoid(-1))
  #   = log(1 + e^-1).
  expected = math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-1.0))
  got = losses.discriminator_loss(jnp.array([2.0]), jnp.array([-1.0]))
  assert float(got) == pytest.approx(expected, rel=1e-6)  # 0.126928 + 0.313262 = 0.440190
  assert float(got) == pytest.approx(0.4401897, rel=1e-6)


def test_generator_losses_hand_computed():
  logits = jnp.array([1.0, -3.0])
  non_saturating = np.mean([math.log1p(math.exp(-1.0)), math.log1p(math.exp(3.0))])
  minimax = np.mean([math.log(1 - 1 / (1 + math.exp(-1.0))),
                     math.log(1 - 1 / (1 + math.exp(3.0)))])
  assert float(losses.generator_loss(logits, "non_saturating")) == pytest.approx(
      non_saturating, rel=1e-6)
  assert float(losses.generator_loss(logits, "minimax")) == pytest.approx(minimax, rel=1e-6)


def test_losses_are_finite_for_extreme_logits():
  logits = jnp.array([-1e4, 1e4])
  for value in (losses.discriminator_loss(logits, logits),
                losses.generator_loss(logits, "non_saturating"),
                losses.generator_loss(logits, "minimax")):
    assert np.isfinite(float(value))
  # A perfectly fooled D: BCE with target 1 on logit +1e4 is 0, not NaN.
  assert float(losses.generator_loss(jnp.array([1e4]))) == 0.0


def test_unknown_generator_loss():
  with pytest.raises(ValueError, match="hinge"):
    losses.generator_loss(jnp.zeros(1), "hinge")
  with pytest.raises(ValueError, match="Unknown loss 'wgan'"):
    losses.discriminator_loss(jnp.zeros(1), jnp.zeros(1), "wgan")


# Critic outputs used below: real [2, -1, 0.5] (mean 0.5), fake [-3, 1, 0] (mean -2/3).
REAL = jnp.array([2.0, -1.0, 0.5])
FAKE = jnp.array([-3.0, 1.0, 0.0])


def test_bce_is_the_default_and_unchanged():
  np.testing.assert_allclose(float(losses.discriminator_loss(REAL, FAKE)),
                             float(losses.discriminator_loss(REAL, FAKE, "bce")))
  assert float(losses.generator_loss(FAKE, "non_saturating", "bce")) == pytest.approx(
      np.mean([math.log1p(math.exp(3.0)), math.log1p(math.exp(-1.0)), math.log(2.0)]), rel=1e-6)


def test_wasserstein_hand_computed():
  # Critic: E[D(G(z))] - E[D(x)] = -2/3 - 1/2 = -7/6 (minus the Wasserstein estimate 7/6).
  assert float(losses.discriminator_loss(REAL, FAKE, "wasserstein")) == pytest.approx(
      -7.0 / 6.0, rel=1e-6)
  # Generator: -E[D(G(z))] = 2/3, whatever the BCE variant says.
  for kind in ("non_saturating", "minimax"):
    assert float(losses.generator_loss(FAKE, kind, "wasserstein")) == pytest.approx(
        2.0 / 3.0, rel=1e-6)


def test_hinge_hand_computed():
  # relu(1 - [2, -1, 0.5]) = [0, 2, 0.5] -> 5/6;  relu(1 + [-3, 1, 0]) = [0, 2, 1] -> 1.
  assert float(losses.discriminator_loss(REAL, FAKE, "hinge")) == pytest.approx(11.0 / 6.0,
                                                                                rel=1e-6)
  assert float(losses.generator_loss(FAKE, loss="hinge")) == pytest.approx(2.0 / 3.0, rel=1e-6)


def test_least_squares_hand_computed():
  # 1/2 mean([1, 4, 0.25]) + 1/2 mean([9, 1, 0]) = 0.875 + 5/3.
  assert float(losses.discriminator_loss(REAL, FAKE, "least_squares")) == pytest.approx(
      0.875 + 5.0 / 3.0, rel=1e-6)
  # 1/2 mean([16, 0, 1]) = 17/6.
  assert float(losses.generator_loss(FAKE, loss="least_squares")) == pytest.approx(
      17.0 / 6.0, rel=1e-6)


def test_gradient_penalty_of_a_linear_critic():
  """D(x) = <w, x> has input gradient w everywhere: penalty (||w|| - 1)^2, for any mix."""
  w = jnp.array([3.0, 0.0, 4.0, 0.0]).reshape(1, 2, 2, 1)  # ||w|| = 5
  critic = lambda x: jnp.sum(x * w, axis=(1, 2, 3))
  real = jax.random.normal(jax.random.key(0), (3, 2, 2, 1))
  fake = jax.random.normal(jax.random.key(1), (3, 2, 2, 1))
  penalty = losses.gradient_penalty(critic, real, fake, jnp.array([0.0, 0.3, 1.0]))
  assert float(penalty) == pytest.approx(16.0, rel=1e-6)


def test_gradient_penalty_is_per_example_on_the_interpolates():
  """D(x) = 1/2 ||x||^2 has gradient x: the penalty is the mean of (||x_hat_i|| - 1)^2."""
  critic = lambda x: 0.5 * jnp.sum(jnp.square(x), axis=(1, 2, 3))
  real = jnp.array([3.0, 0.0, 2.0, 2.0]).reshape(2, 1, 1, 2)
  fake = jnp.array([1.0, 0.0, 0.0, 0.0]).reshape(2, 1, 1, 2)
  # x_hat_0 = 0.5 * (3, 0) + 0.5 * (1, 0) = (2, 0): norm 2 -> 1.
  # x_hat_1 = 0.25 * (2, 2) + 0.75 * (0, 0) = (0.5, 0.5): norm sqrt(0.5) -> (sqrt(0.5) - 1)^2.
  expected = (1.0 + (math.sqrt(0.5) - 1.0) ** 2) / 2
  penalty = losses.gradient_penalty(critic, real, fake, jnp.array([0.5, 0.25]))
  assert float(penalty) == pytest.approx(expected, rel=1e-6)


def test_gradient_penalty_has_finite_gradients_at_a_flat_critic():
  """A critic with zero input gradient (its weights at 0) must not produce NaN gradients."""
  def penalty(scale):
    critic = lambda x: scale * jnp.sum(x, axis=(1, 2, 3))
    return losses.gradient_penalty(critic, jnp.ones((2, 1, 1, 1)), jnp.zeros((2, 1, 1, 1)),
                                   jnp.array([0.5, 0.5]))
  assert float(penalty(0.0)) == pytest.approx(1.0, rel=1e-5)
  grad = jax.grad(penalty)(0.0)
  assert np.isfinite(float(grad))


def test_r1_of_a_linear_discriminator_is_its_squared_weight_norm():
  """D(x) = <w, x> + b: ∇D = w for every image, E‖∇D‖² = ‖w‖² = 9 + 16 = 25; packed pairs
  (D on 2 samples joined along channels) have one output per pair, whose gradient holds both
  samples' parts of w: still 25 per output."""
  w = jnp.array([3.0, 0.0, 4.0, 0.0]).reshape(1, 2, 2, 1)
  critic = lambda x: jnp.sum(x * w, axis=(1, 2, 3)) + 1.5
  images = jax.random.normal(jax.random.key(0), (3, 2, 2, 1))
  assert float(losses.input_gradient_penalty(critic, images)) == pytest.approx(25.0, rel=1e-6)
  w_packed = jnp.array([3.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0]).reshape(1, 2, 2, 2)
  packed_critic = lambda x: jnp.sum(x.reshape(2, 2, 2, 2, 1).transpose(0, 2, 3, 1, 4).reshape(
      2, 2, 2, 2) * w_packed, axis=(1, 2, 3))
  four = jax.random.normal(jax.random.key(1), (4, 2, 2, 1))
  assert float(losses.input_gradient_penalty(packed_critic, four)) == pytest.approx(
      25.0, rel=1e-6)


def test_r1_is_the_mean_of_each_images_own_squared_gradient_norm():
  """D(x) = 1/2 ‖x‖² has gradient x: E‖∇D‖² = mean(‖x_i‖²) = (9 + 8) / 2."""
  critic = lambda x: 0.5 * jnp.sum(jnp.square(x), axis=(1, 2, 3))
  images = jnp.array([3.0, 0.0, 2.0, 2.0]).reshape(2, 1, 1, 2)
  assert float(losses.input_gradient_penalty(critic, images)) == pytest.approx(8.5, rel=1e-6)
