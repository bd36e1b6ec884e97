"""Losses against hand-computed values."""

import math

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
