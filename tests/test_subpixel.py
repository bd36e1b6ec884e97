"""The sub-pixel up-sampling computes XLA's transposed convolution, with the same parameters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from configs import dcgan_fashion_mnist, dcgan_rps
from gan_jax.models import dcgan, registry, subpixel


@pytest.mark.parametrize("features", [3, 8])  # One stacked convolution; one per phase.
@pytest.mark.parametrize("kernel,stride", [(4, 2), (5, 2), (1, 2), (3, 3), (5, 3), (4, 4)])
def test_subpixel_conv_transpose_equals_lax_conv_transpose(kernel, stride, features):
  x = jax.random.normal(jax.random.key(0), (2, 5, 6, 3))
  w = jax.random.normal(jax.random.key(1), (kernel, kernel, 3, features))
  expected = lax.conv_transpose(x, w, (stride, stride), "SAME",
                                dimension_numbers=("NHWC", "HWIO", "NHWC"))
  got = subpixel.subpixel_conv_transpose(x, w, (stride, stride))
  assert got.shape == expected.shape == (2, 5 * stride, 6 * stride, features)
  np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-5, atol=1e-5)
  # And its gradients (the backward pass is what XLA:CPU ran slowly).
  loss = lambda f: lambda x, w: jnp.sum(jnp.sin(f(x, w)))
  grads = jax.grad(loss(lambda x, w: subpixel.subpixel_conv_transpose(x, w, (stride, stride))),
                   argnums=(0, 1))(x, w)
  expected_grads = jax.grad(loss(lambda x, w: lax.conv_transpose(
      x, w, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))),
                            argnums=(0, 1))(x, w)
  for a, b in zip(grads, expected_grads):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)


def _rps_small():
  """Article 004's up-sampling path (strides 5, 3, 2, 2, 1; extra convs) at small widths."""
  model = dcgan_rps.get_config().model
  model.generator_features = (4, 4, 4, 4, 4)
  model.latent_dim = 8
  return model, (300, 300, 3)


@pytest.mark.parametrize("layout", ["dcgan_fashion_mnist", "rps"])
def test_both_upsampling_methods_are_the_same_generator(layout):
  if layout == "rps":
    model_config, shape = _rps_small()
  else:
    model_config, shape = dcgan_fashion_mnist.get_config().model, (28, 28, 1)
  generators = {}
  for method in ("conv_transpose", "subpixel"):
    model_config.upsampling = method
    generators[method], _ = registry.create_models(model_config, shape)
  z = jax.random.normal(jax.random.key(0), (2, model_config.latent_dim))
  variables = generators["conv_transpose"].init(jax.random.key(1), z, train=False)
  # The same parameter tree, so a checkpoint of one loads into the other.
  assert (jax.tree_util.tree_structure(generators["subpixel"].init(jax.random.key(1), z,
                                                                   train=False))
          == jax.tree_util.tree_structure(variables))
  outputs = {method: g.apply(variables, z, train=False) for method, g in generators.items()}
  assert outputs["subpixel"].shape == (2, *shape)
  np.testing.assert_allclose(np.asarray(outputs["subpixel"]),
                             np.asarray(outputs["conv_transpose"]), rtol=1e-4, atol=1e-5)


def test_auto_picks_subpixel_on_cpu_and_bad_names_are_refused():
  assert dcgan.upsampling_method("auto") == (
      "subpixel" if jax.default_backend() == "cpu" else "conv_transpose")
  with pytest.raises(ValueError, match="Unknown upsampling"):
    dcgan.upsampling_method("pixel_shuffle")
