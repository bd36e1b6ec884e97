"""The article's MLP networks: exact parameter counts and shapes."""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models import mlp
from gan_jax.train_state import count_parameters


def _init(module, x):
  return module.init(jax.random.key(0), x, train=False)


def test_generator_parameter_count_matches_article_table():
  variables = _init(mlp.MLPGenerator(), jnp.zeros((1, 100)))
  assert count_parameters(variables) == 1_493_520  # incl. BatchNorm moving mean/variance
  assert count_parameters(variables["params"]) == 1_489_936
  kernels = [variables["params"][f"Dense_{i}"]["kernel"].shape for i in range(4)]
  assert kernels == [(100, 256), (256, 512), (512, 1024), (1024, 784)]


def test_discriminator_parameter_count_matches_article_table():
  variables = _init(mlp.MLPDiscriminator(), jnp.zeros((1, 28, 28, 1)))
  assert count_parameters(variables) == 533_505
  assert set(variables) == {"params"}


def test_shapes_and_ranges():
  generator, discriminator = mlp.MLPGenerator(), mlp.MLPDiscriminator()
  z = jax.random.normal(jax.random.key(1), (5, 100))
  g_vars = _init(generator, z)
  images, updates = generator.apply(g_vars, z, train=True, mutable=["batch_stats"])
  assert images.shape == (5, 28, 28, 1)
  assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
  # Training mode moves the BatchNorm statistics with Keras' momentum 0.8.
  mean0 = g_vars["batch_stats"]["BatchNorm_0"]["mean"]
  mean1 = updates["batch_stats"]["BatchNorm_0"]["mean"]
  assert not np.allclose(mean0, mean1)
  logits = discriminator.apply(_init(discriminator, images), images)
  assert logits.shape == (5,)
