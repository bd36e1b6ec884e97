"""Optimizers built from configs: Adam, RMSProp, and weight clipping of the critic only."""

import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from configs import dcgan_fashion_mnist, wgan_fashion_mnist
from gan_jax import optimizers


def _one_update(tx, params, grads):
  updates, _ = tx.update(grads, tx.init(params), params)
  return optax.apply_updates(params, updates)


def test_wgan_config_clips_the_critic_only():
  generator_tx, discriminator_tx = optimizers.create_optimizers(wgan_fashion_mnist.get_config())
  params = {"w": jnp.array([0.5, -0.5, 0.001])}
  grads = {"w": jnp.array([1.0, -1.0, 1.0])}
  # RMSProp's first step is lr * g / sqrt((1 - decay) g^2) = 5e-5 / sqrt(0.01) = 5e-4 per entry.
  np.testing.assert_allclose(_one_update(generator_tx, params, grads)["w"],
                             [0.5 - 5e-4, -0.5 + 5e-4, 0.001 - 5e-4], rtol=1e-5)
  np.testing.assert_allclose(_one_update(discriminator_tx, params, grads)["w"],
                             [0.01, -0.01, 0.001 - 5e-4], rtol=1e-5)


def test_dcgan_config_is_adam_without_clipping():
  generator_tx, discriminator_tx = optimizers.create_optimizers(dcgan_fashion_mnist.get_config())
  params = {"w": jnp.array([0.5])}
  for tx in (generator_tx, discriminator_tx):
    # Adam's first step moves by lr whatever the gradient's size.
    np.testing.assert_allclose(_one_update(tx, params, {"w": jnp.array([3.0])})["w"],
                               [0.5 - 2e-4], rtol=1e-5)


def test_unknown_optimizer():
  with pytest.raises(ValueError, match="sgd"):
    optimizers.create_optimizer(ml_collections.ConfigDict({"name": "sgd"}), 0.1)
