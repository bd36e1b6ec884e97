"""PacGAN packing (`config.pack`): the grouping, the packed discriminator, N devices == 1 device."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import mlp_fashion_mnist
from gan_jax import config_validation, data_parallel, train, train_state, train_step
from gan_jax.train_step import StepOptions
from gan_jax.errors import UserError


def test_pack_samples_joins_consecutive_images_along_channels():
  images = jnp.arange(4 * 2 * 2 * 3, dtype=jnp.float32).reshape((4, 2, 2, 3))
  packed = train_step.pack_samples(images, 2)
  assert packed.shape == (2, 2, 2, 6)
  # Packed input 1 holds images 2 and 3, pixel by pixel: channels of image 2, then of image 3.
  np.testing.assert_array_equal(packed[1, 0, 1], np.concatenate([images[2, 0, 1], images[3, 0, 1]]))
  points = jnp.arange(12, dtype=jnp.float32).reshape((6, 2))
  np.testing.assert_array_equal(train_step.pack_samples(points, 3),
                                [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
  assert train_step.pack_samples(images, 1) is images


def _tiny_points_config(pack):
  config = mlp_fashion_mnist.get_config()
  config.data.name = config.data.source = "toy2d"
  config.model.latent_dim = 2
  config.model.generator_features = (16, 16)
  config.model.discriminator_features = (8,)
  config.model.generator_output_activation = "linear"
  config.model.discriminator_maxout_pieces = 3
  config.pack = pack
  return config


def _points(num, seed):
  return {"image": jax.random.normal(jax.random.key(seed), (num, 2))}


@pytest.mark.parametrize("loss,penalty", [("bce", 0.0), ("wasserstein", 10.0)])
def test_packed_step_on_two_devices_equals_one_device(loss, penalty):
  """Packs are formed inside each device's shard; they are the packs 1 device forms."""
  config = _tiny_points_config(pack=4)
  state = train_state.state_from_config(config, (2,), jax.random.key(0))
  # D sees 4 points of 2 coordinates at once; its maxout layer has 8 units x 3 pieces.
  assert state.discriminator.params["Dense_0"]["kernel"].shape == (8, 24)
  step_fn = functools.partial(
      train_step.train_step,
      options=StepOptions(loss=loss, gradient_penalty_weight=penalty, pack=4))
  results = []
  for devices in (jax.devices()[:1], jax.devices()[:2]):
    mesh = data_parallel.create_mesh(devices)
    step = data_parallel.parallelize_train_step(step_fn, mesh, donate_state=False)
    current = jax.device_put(state, data_parallel.replicated(mesh))
    for i in range(3):
      batch = jax.device_put(_points(16, i), data_parallel.batch_sharded(mesh))
      current, metrics = step(current, batch, jax.random.key(5))
    results.append((current, metrics))
  (state_1, metrics_1), (state_2, metrics_2) = results
  for a, b in zip(jax.tree_util.tree_leaves((state_1, metrics_1)),
                  jax.tree_util.tree_leaves((state_2, metrics_2))):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
  assert all(np.isfinite(float(v)) for v in metrics_1.values())
  if penalty:
    assert float(metrics_1["gradient_penalty"]) > 0


def test_packed_discriminator_takes_pack_times_the_input_width():
  config = _tiny_points_config(pack=2)
  packed_state = train_state.state_from_config(config, (2,), jax.random.key(0))
  config.pack = 1
  plain_state = train_state.state_from_config(config, (2,), jax.random.key(0))
  assert packed_state.discriminator.params["Dense_0"]["kernel"].shape[0] == 4
  assert plain_state.discriminator.params["Dense_0"]["kernel"].shape[0] == 2
  _, packed_metrics = jax.jit(functools.partial(train_step.train_step,
                                                options=StepOptions(pack=2)))(
      packed_state, _points(8, 0), jax.random.key(1))
  assert 0 < float(packed_metrics["d_real"]) < 1


@pytest.mark.parametrize("pack,batch_size,message", [
    (0, 64, "config.pack=0 is invalid"),
    (-2, 64, "config.pack=-2 is invalid"),
    (3, 64, "must be divisible"),
])
def test_bad_pack_values_get_one_line(pack, batch_size, message):
  config = mlp_fashion_mnist.get_config()
  config.pack = pack
  config.batch_size = batch_size
  with pytest.raises(UserError, match=message):
    config_validation.validate_config(config, 1)
  config.pack = 4
  config_validation.validate_config(config, 1)  # 64 divisible by 4: fine.


def test_packing_leaves_the_generator_alone():
  """Packing changes D's input width only: G has the same parameters packed or not."""
  config = _tiny_points_config(pack=4)
  packed = train_state.state_from_config(config, (2,), jax.random.key(0))
  config.pack = 1
  plain = train_state.state_from_config(config, (2,), jax.random.key(0))
  for a, b in zip(jax.tree_util.tree_leaves(packed.generator.params),
                  jax.tree_util.tree_leaves(plain.generator.params)):
    np.testing.assert_array_equal(a, b)


def test_packing_and_conditioning_do_not_mix():
  config = mlp_fashion_mnist.get_config()
  config.pack, config.conditional = 2, True
  with pytest.raises(UserError, match="packing is for unconditional GANs"):
    config_validation.validate_config(config, 1)
