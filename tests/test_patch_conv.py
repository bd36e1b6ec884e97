"""Convolutions as one matmul over patches: the same function, gradients and parameters."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import dcgan, patch_conv


@pytest.mark.parametrize("size,kernel,stride", [
    (4, 5, 2), (7, 5, 2), (2, 3, 1), (5, 4, 2), (6, 3, 1), (9, 4, 3)])
def test_patch_conv_equals_xlas_convolution_and_its_gradients(size, kernel, stride):
  x = jax.random.normal(jax.random.key(0), (3, size, size + 1, 4))
  w = jax.random.normal(jax.random.key(1), (kernel, kernel, 4, 5))
  padding = [patch_conv.same_padding(n, kernel, stride)[1] for n in x.shape[1:3]]
  outputs = {m: patch_conv.conv(x, w, (stride, stride), padding, m) for m in ("lax", "patches")}
  expected = jax.lax.conv_general_dilated(x, w, (stride, stride), "SAME",
                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
  for output in outputs.values():
    assert output.shape == expected.shape
    np.testing.assert_allclose(np.asarray(output), np.asarray(expected), rtol=1e-5, atol=1e-5)
  loss = lambda m: lambda x, w: jnp.sum(jnp.sin(patch_conv.conv(x, w, (stride, stride),
                                                                padding, m)))
  grads = {m: jax.grad(loss(m), argnums=(0, 1))(x, w) for m in ("lax", "patches")}
  for a, b in zip(grads["lax"], grads["patches"]):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)


def test_auto_uses_patches_only_where_the_kernel_outgrows_the_map():
  assert patch_conv.slow_on_cpu((4, 4), (2, 2), (5, 5))      # reads 4 < 5
  assert patch_conv.slow_on_cpu((7, 7), (4, 4), (5, 5))      # writes 4 < 5 (its input gradient)
  assert patch_conv.slow_on_cpu((2, 2), (2, 2), (3, 3))
  assert not patch_conv.slow_on_cpu((14, 14), (7, 7), (5, 5))
  assert not patch_conv.slow_on_cpu((8, 8), (4, 4), (4, 4))


def test_conv_module_has_nn_convs_parameters_and_function():
  x = jax.random.normal(jax.random.key(2), (2, 4, 4, 3))
  ours = patch_conv.Conv(6, (5, 5), (2, 2), method="patches")
  theirs = nn.Conv(6, (5, 5), (2, 2), padding="SAME")
  variables = theirs.init(jax.random.key(0), x)
  assert jax.tree_util.tree_map(jnp.shape, ours.init(jax.random.key(0), x)) == (
      jax.tree_util.tree_map(jnp.shape, variables))
  np.testing.assert_allclose(np.asarray(ours.apply(variables, x)),
                             np.asarray(theirs.apply(variables, x)), rtol=1e-5, atol=1e-5)
  # In a DCGAN discriminator the layers keep nn.Conv's names ("Conv_<i>").
  discriminator = dcgan.DCGANDiscriminator(features=(4, 8), kernel_sizes=5, batch_norm=True)
  params = discriminator.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)["params"]
  assert set(params) == {"Conv_0", "Conv_1", "BatchNorm_0", "Dense_0"}
