"""The networks: exact parameter counts and shapes of the articles' MLP and DCGAN models."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import dcgan64, dcgan_fashion_mnist, dcgan_rps, mlp_fashion_mnist
from gan_jax.errors import UserError
from gan_jax.models import dcgan, mlp, registry
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


# ---------------------------------------------------------------------------------------------
# DCGAN family.


def _shapes(module, x, **kwargs):
  """Variable and output shapes without computing anything (jax.eval_shape)."""
  def run():
    variables = module.init({"params": jax.random.key(0), "dropout": jax.random.key(1)}, x,
                            train=False)
    return variables, module.apply(variables, x, train=True, mutable=["batch_stats"],
                                   rngs={"dropout": jax.random.key(2)}, **kwargs)[0]
  return jax.eval_shape(run)


@pytest.mark.parametrize("image_shape,features,strides,projected", [
    ((28, 28, 1), (8, 4), None, 7),                      # 7 -> 14 -> 28
    ((32, 32, 3), (8, 4, 4), None, 4),                   # 4 -> 8 -> 16 -> 32
    ((64, 64, 3), (8, 4, 4, 4), None, 4),                # Radford's path
    ((128, 128, 3), (8, 4, 4, 4, 4), None, 4),
    ((300, 300, 3), (4, 4), None, 75),                   # 75 -> 150 -> 300
    ((300, 300, 3), (4, 4, 4, 4), None, 19),             # 19 -> ... -> 304, centre crop
    ((300, 300, 3), (4, 4, 4, 4, 4), (5, 3, 2, 2, 1), 5),  # article 004: 5 -> ... -> 300
])
def test_generator_and_discriminator_shapes_for_every_resolution(image_shape, features, strides,
                                                                 projected):
  generator = dcgan.DCGANGenerator(image_shape=image_shape, features=features, strides=strides,
                                   kernel_sizes=3)
  variables, images = _shapes(generator, jnp.zeros((2, 16)))
  assert images.shape == (2, *image_shape)
  assert variables["params"]["ConvTranspose_0"]["kernel"].shape == (projected, projected, 16,
                                                                     features[0])
  discriminator = dcgan.DCGANDiscriminator(features=(4, 4, 4), kernel_sizes=3, batch_norm=True)
  _, logits = _shapes(discriminator, jnp.zeros((2, *image_shape)))
  assert logits.shape == (2,)


def test_generator_output_in_tanh_range_and_cropped_centre():
  generator = dcgan.DCGANGenerator(image_shape=(30, 30, 3), features=(4, 4), kernel_sizes=3)
  full = dcgan.DCGANGenerator(image_shape=(32, 32, 3), features=(4, 4), kernel_sizes=3)
  z = jax.random.normal(jax.random.key(0), (3, 8))

  @jax.jit
  def run(z):
    variables = generator.init(jax.random.key(1), z, train=False)
    return generator.apply(variables, z, train=False), full.apply(variables, z, train=False)

  images, full_images = run(z)
  assert images.shape == (3, 30, 30, 3)  # 8 -> 16 -> 32, two pixels cropped from each side
  assert float(jnp.abs(images).max()) <= 1.0
  # The crop is central: the same network built for 32x32 shows the 30x30 image in its centre.
  np.testing.assert_array_equal(np.asarray(full_images)[:, 1:31, 1:31], np.asarray(images))


def test_dcgan_rps_parameter_counts():
  """Article 004's networks; the notebook's Keras summary: G 15,214,283 (15,212,907 trainable),
  D 1,763,921. Ours adds BatchNorm after the last up-sampling layer: 16 + 16 numbers."""
  config = dcgan_rps.get_config()
  generator, discriminator = registry.create_models(config.model, (300, 300, 3))
  g_vars, images = _shapes(generator, jnp.zeros((1, 512)))
  d_vars, _ = _shapes(discriminator, jnp.zeros((1, 300, 300, 3)))
  assert images.shape == (1, 300, 300, 3)
  assert count_parameters(g_vars) == 15_214_315
  assert count_parameters(g_vars["params"]) == 15_212_923
  assert count_parameters(d_vars) == count_parameters(d_vars["params"]) == 1_763_921
  assert g_vars["params"]["ConvTranspose_0"]["kernel"].shape == (5, 5, 512, 512)
  assert d_vars["params"]["Dense_0"]["kernel"].shape == (512, 32)  # 300 pooled down to 1x1


def test_dcgan64_is_radfords_network_with_its_initialisation():
  config = dcgan64.get_config()
  generator, discriminator = registry.create_models(config.model, (64, 64, 3))
  g_vars = jax.jit(functools.partial(generator.init, train=False))(
      jax.random.key(0), jnp.zeros((1, 100)))
  kernels = [g_vars["params"][f"ConvTranspose_{i}"]["kernel"].shape for i in range(5)]
  assert kernels == [(4, 4, 100, 1024), (4, 4, 1024, 512), (4, 4, 512, 256), (4, 4, 256, 128),
                     (4, 4, 128, 3)]
  assert count_parameters(g_vars["params"]) == 12_660_355
  # N(0, 0.02): 8.4M samples of the second layer pin the std to within 0.1%.
  kernel = np.asarray(g_vars["params"]["ConvTranspose_1"]["kernel"])
  assert abs(kernel.std() - 0.02) < 2e-5 and abs(kernel.mean()) < 2e-5
  d_vars, _ = _shapes(discriminator, jnp.zeros((1, 64, 64, 3)))
  assert count_parameters(d_vars["params"]) == 11_038_081
  # BatchNorm on every block but the first.
  assert sorted(k for k in d_vars["params"] if k.startswith("BatchNorm")) == [
      "BatchNorm_0", "BatchNorm_1", "BatchNorm_2"]


def test_discriminator_max_pool_and_dropout_blocks():
  discriminator = dcgan.DCGANDiscriminator(features=(4, 8), strides=1, kernel_sizes=3,
                                           pool_sizes=(3, 5), hidden_features=(6,),
                                           dropout_rate=0.5)
  x = jax.random.normal(jax.random.key(0), (2, 30, 30, 3))
  variables = jax.jit(functools.partial(discriminator.init, train=False))(jax.random.key(1), x)
  # 30 -> pool 3 -> 10 -> pool 5 -> 2: the Dense layer sees 2 * 2 * 8 features.
  assert variables["params"]["Dense_0"]["kernel"].shape == (32, 6)
  apply = jax.jit(discriminator.apply, static_argnames="train")
  a, b = (apply(variables, x, train=False, rngs={"dropout": jax.random.key(i)}) for i in (2, 3))
  np.testing.assert_array_equal(a, b)
  a, b = (apply(variables, x, train=True, rngs={"dropout": jax.random.key(i)}) for i in (2, 3))
  assert not np.allclose(a, b)  # dropout is on in training mode only


def test_spectral_norm_estimates_the_largest_singular_value():
  discriminator = dcgan.DCGANDiscriminator(features=(4,), kernel_sizes=3, spectral_norm=True)
  x = jax.random.normal(jax.random.key(0), (2, 8, 8, 3))
  variables = discriminator.init(jax.random.key(1), x, train=False)
  # The power-iteration state lives next to BatchNorm's statistics, where the step carries it.
  stats = variables["batch_stats"]["SpectralNorm_0"]
  assert set(stats) == {"Conv_0/kernel/u", "Conv_0/kernel/sigma"}
  apply = jax.jit(discriminator.apply, static_argnames=("train", "mutable"))
  for _ in range(30):
    _, updates = apply(variables, x, train=True, mutable=("batch_stats",))
    variables = {**variables, **updates}
  kernel = np.asarray(variables["params"]["Conv_0"]["kernel"]).reshape(-1, 4)
  sigma = float(variables["batch_stats"]["SpectralNorm_0"]["Conv_0/kernel/sigma"])
  np.testing.assert_allclose(sigma, np.linalg.svd(kernel, compute_uv=False)[0], rtol=1e-4)
  # Inference mode leaves the state alone.
  _, updates = apply(variables, x, train=False, mutable=("batch_stats",))
  np.testing.assert_array_equal(
      updates["batch_stats"]["SpectralNorm_0"]["Conv_0/kernel/u"],
      variables["batch_stats"]["SpectralNorm_0"]["Conv_0/kernel/u"])


def test_layer_lists_that_cannot_fit_are_user_errors():
  config = dcgan_rps.get_config()
  config.model.generator_strides = (5, 3, 2, 2)
  with pytest.raises(UserError, match="generator_strides.*has 4 entries"):
    registry.create_models(config.model, (300, 300, 3))
  config = dcgan_rps.get_config()
  with pytest.raises(UserError, match="up-sample by 60, more than the image size 32"):
    registry.create_models(config.model, (32, 32, 3))
  config.model.discriminator_pool_sizes = (2, 2)
  with pytest.raises(UserError, match="discriminator_pool_sizes"):
    registry.create_models(config.model, (300, 300, 3))


# ---------------------------------------------------------------------------------------------
# Class-conditional networks.


def test_conditional_mlp_adds_only_the_label_embeddings():
  """G: 10 x 50 embedding and 50 more rows of the first kernel; D: a 10 x 256 projection."""
  labels = jnp.array([0, 9])
  generator_variables = mlp.MLPGenerator(num_classes=10).init(
      jax.random.key(0), jnp.zeros((2, 100)), labels, train=False)
  assert count_parameters(generator_variables["params"]) == 1_489_936 + 10 * 50 + 50 * 256
  assert generator_variables["params"]["Dense_0"]["kernel"].shape == (150, 256)
  discriminator_variables = mlp.MLPDiscriminator(num_classes=10).init(
      jax.random.key(0), jnp.zeros((2, 28, 28, 1)), labels, train=False)
  assert count_parameters(discriminator_variables) == 533_505 + 10 * 256


def _tiny_model_config(name):
  config = (dcgan_fashion_mnist if name == "dcgan" else mlp_fashion_mnist).get_config()
  config.model.latent_dim = 5
  if name == "dcgan":
    config.model.generator_features = (8, 4)
    config.model.discriminator_features = (4, 8)
    config.model.generator_kernel_sizes = (3, 3)
    config.model.discriminator_kernel_sizes = (3, 3)
  else:
    config.model.generator_features = (16,)
    config.model.discriminator_features = (16,)
  return config.model


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_labels_condition_both_networks(name):
  """Same z, different labels: different images; same image, different labels: other logits."""
  model_config, shape = _tiny_model_config(name), (8, 8, 1)
  generator, discriminator = registry.create_models(model_config, shape, num_classes=3)
  assert generator.num_classes == discriminator.num_classes == 3
  z = jnp.tile(jax.random.normal(jax.random.key(1), (1, model_config.latent_dim)), (3, 1))
  labels = jnp.arange(3)
  g_vars = generator.init(jax.random.key(0), z, labels, train=False)
  images = generator.apply(g_vars, z, labels, train=False)
  assert images.shape == (3, *shape)
  assert not np.allclose(images[0], images[1]) and not np.allclose(images[1], images[2])
  same = jnp.tile(images[:1], (3, 1, 1, 1))
  d_vars = discriminator.init({"params": jax.random.key(2), "dropout": jax.random.key(3)}, same,
                              labels, train=False)
  # A fresh projection embedding is random, so each label scores the same image differently.
  logits = discriminator.apply(d_vars, same, labels, train=False)
  assert logits.shape == (3,) and np.unique(np.asarray(logits)).size == 3
  # Unconditional networks of the same config have none of the label parameters.
  plain_generator, _ = registry.create_models(model_config, shape)
  plain = plain_generator.init(jax.random.key(0), z, train=False)["params"]
  assert set(g_vars["params"]) - set(plain) == {"label_embedding"}


def test_pacgan_mlps_are_its_blocks_networks():
  """configs/pacgan_grid25.py: G 4 x [Linear without bias -> BN -> ReLU] + Linear with bias, D 3
  maxout layers (5 pieces) on 2 x pack inputs; N(0, 0.02) kernels, zero biases."""
  from configs import pacgan_grid25  # pylint: disable=g-import-not-at-top
  config = pacgan_grid25.get_config()
  generator, discriminator = registry.create_models(config.model, (2,))
  g = generator.init(jax.random.key(0), jnp.zeros((1, 2)), train=False)
  d = discriminator.init(jax.random.key(1), jnp.zeros((1, 8)), train=False)
  assert [sorted(g["params"][f"Dense_{i}"]) for i in range(5)] == [["kernel"]] * 4 + [
      ["bias", "kernel"]]
  # Blocks counts: G 2*400 + 3*400*400 + 4*2*400 (BN scale and shift) + 400*2 + 2.
  assert count_parameters(g["params"]) == 2 * 400 + 3 * 400 * 400 + 8 * 400 + 400 * 2 + 2
  # D on PacGAN4's 8 inputs: maxout layers of 200 x 5 pieces, then the logit.
  assert count_parameters(d["params"]) == (8 * 1000 + 1000) + 2 * (200 * 1000 + 1000) + 201
  kernels = np.concatenate([np.ravel(g["params"][f"Dense_{i}"]["kernel"]) for i in range(1, 4)])
  assert np.std(kernels) == pytest.approx(0.02, rel=0.01)
  assert not np.any(np.asarray(d["params"]["Dense_0"]["bias"]))
  # The forward in training mode, written out: Linear -> BatchNorm (batch statistics) -> ReLU.
  z = jax.random.normal(jax.random.key(2), (64, 2))
  out, _ = generator.apply(g, z, train=True, mutable=["batch_stats"])
  x = np.asarray(z, np.float64)
  for i in range(4):
    x = x @ np.asarray(g["params"][f"Dense_{i}"]["kernel"], np.float64)
    norm = g["params"][f"BatchNorm_{i}"]
    x = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-4) * np.asarray(norm["scale"]) + np.asarray(
        norm["bias"])
    x = np.maximum(x, 0.0)
  x = x @ np.asarray(g["params"]["Dense_4"]["kernel"]) + np.asarray(g["params"]["Dense_4"]["bias"])
  np.testing.assert_allclose(np.asarray(out), x, rtol=1e-4, atol=1e-5)


def _tensorflow_conv_transpose(x, kernel, size, stride):
  """TensorFlow's conv2d_transpose(x, output_shape=[.., size, size, ..], SAME): the gradient of
  a SAME convolution from `size` pixels, with Flax's (unflipped) [k, k, in, out] kernel
  mapped to TensorFlow's flipped [k, k, out, in] one."""
  tf_kernel = jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)
  conv = lambda y: jax.lax.conv_general_dilated(y, tf_kernel, (stride, stride), "SAME",
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))
  y = jnp.zeros((x.shape[0], size, size, kernel.shape[-1]))
  return jax.vjp(conv, y)[1](x)[0]


def test_exact_layer_sizes_are_tensorflows_conv2d_transpose():
  """DCGAN-tensorflow's 28x28 generator: 2 -> 4 -> 7 -> 14 -> 28, each layer TensorFlow's
  transposed convolution to that size (here checked on a 4 -> 7 output layer)."""
  assert dcgan.layer_sizes(28, (2, 2, 2, 2)) == [2, 4, 7, 14, 28]
  assert dcgan.layer_sizes(300, (5, 3, 2, 2, 1)) == [5, 25, 75, 150, 300, 300]
  z = jax.random.uniform(jax.random.key(1), (3, 10), minval=-1, maxval=1)
  outputs = {}
  for upsampling in ("conv_transpose", "subpixel"):
    generator = dcgan.DCGANGenerator(image_shape=(7, 7, 2), features=(5,), strides=(2,),
                                     kernel_sizes=5, dense_projection=True,
                                     exact_layer_sizes=True, upsampling=upsampling)
    variables = generator.init(jax.random.key(0), z, train=False)
    params = variables["params"]
    assert params["Dense_0"]["kernel"].shape == (10, 4 * 4 * 5)
    assert params["Dense_0"]["bias"].shape == (4 * 4 * 5,)
    outputs[upsampling] = generator.apply(variables, z, train=False)
  # Inference-mode BatchNorm at its initial statistics divides by sqrt(1 + eps).
  hidden = jax.nn.relu((z @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"]).reshape(
      3, 4, 4, 5) / np.sqrt(1 + 1e-5))
  layer = params["ConvTranspose_1"]
  expected = jnp.tanh(_tensorflow_conv_transpose(hidden, layer["kernel"], 7, 2) + layer["bias"])
  for upsampling, images in outputs.items():
    assert images.shape == (3, 7, 7, 2)
    np.testing.assert_allclose(np.asarray(images), np.asarray(expected), atol=1e-5,
                               err_msg=upsampling)
  # Up-sampling to 8 and cropping the centre once (the default) is another function.
  cropped = dcgan.DCGANGenerator(image_shape=(7, 7, 2), features=(5,), strides=(2,),
                                 kernel_sizes=5, dense_projection=True)
  assert not np.allclose(np.asarray(cropped.apply(variables, z, train=False)),
                         np.asarray(expected), atol=1e-3)


def test_pacgan_stacked_mnist_networks_are_dcgan_tensorflows():
  from configs import pacgan_stacked_mnist  # pylint: disable=g-import-not-at-top
  config = pacgan_stacked_mnist.get_config()
  generator, discriminator = registry.create_models(config.model, (28, 28, 3))
  g_params = _init(generator, jnp.zeros((1, 100)))["params"]
  shapes = {name: layer["kernel"].shape for name, layer in g_params.items() if "kernel" in layer}
  assert shapes == {"Dense_0": (100, 2 * 2 * 512), "ConvTranspose_1": (5, 5, 512, 256),
                    "ConvTranspose_2": (5, 5, 256, 128), "ConvTranspose_3": (5, 5, 128, 64),
                    "ConvTranspose_4": (5, 5, 64, 3)}
  d_params = _init(discriminator, jnp.zeros((1, 28, 28, 3)))["params"]
  assert [d_params[f"Conv_{i}"]["kernel"].shape[-1] for i in range(4)] == [64, 128, 256, 512]
  assert d_params["Dense_0"]["kernel"].shape == (2 * 2 * 512, 1)
  assert set(d_params) == {"Conv_0", "Conv_1", "Conv_2", "Conv_3", "Dense_0", "BatchNorm_0",
                           "BatchNorm_1", "BatchNorm_2"}
  # Convolutions: N(0, 0.02) truncated at 2 std (std 0.88 x 0.02); the logit layer untruncated.
  kernels = np.concatenate([np.ravel(d_params[f"Conv_{i}"]["kernel"]) for i in range(4)])
  assert np.abs(kernels).max() <= 0.04
  np.testing.assert_allclose(kernels.std(), 0.02 * 0.8796, rtol=0.02)
  assert np.abs(np.ravel(g_params["Dense_0"]["kernel"])).max() > 0.06
