"""gan_jax.sampling: loading a run's generator (EMA preferred), batched sampling, class selection
(the latent-space operations it re-exports: tests/test_latent_space.py)."""

import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from gan_jax import sampling, train_state
from gan_jax.errors import UserError
from gan_jax.models import mlp

LATENT_DIM = 8


def _state(seed=0):
  tx = optax.adam(1e-3)
  return train_state.create_train_state(
      jax.random.key(seed), mlp.MLPGenerator(image_shape=(4, 4, 1), hidden_features=(16,)),
      mlp.MLPDiscriminator(hidden_features=(8,)), tx, tx, latent_dim=LATENT_DIM,
      image_shape=(4, 4, 1))


def _with_ema(state, ema_params):
  return state.replace(generator=state.generator.replace(ema_params=ema_params))


def test_generator_is_the_module_in_inference_mode():
  state = _state()
  generator = sampling.generator_from_state(state)
  assert not generator.uses_ema and generator.latent_dim == LATENT_DIM
  z = sampling.latents(0, 5, LATENT_DIM)
  expected = state.generator.module.apply(state.generator.variables(), z, train=False)
  np.testing.assert_array_equal(np.asarray(generator(z)), np.asarray(expected))
  # BatchNorm uses its moving statistics: one latent alone gives what it gives in a batch.
  np.testing.assert_allclose(np.asarray(generator(z[2:3]))[0], np.asarray(expected)[2],
                             atol=1e-6)
  assert sampling.image_shape(generator) == (4, 4, 1)


def test_ema_parameters_are_preferred_when_the_state_has_them():
  state = _state()
  ema_params = jax.tree_util.tree_map(lambda p: p * 0.5, state.generator.params)
  generator = sampling.generator_from_state(_with_ema(state, ema_params))
  assert generator.uses_ema
  z = sampling.latents(1, 3, LATENT_DIM)
  expected = state.generator.module.apply(
      {"params": ema_params, "batch_stats": state.generator.batch_stats}, z, train=False)
  np.testing.assert_array_equal(np.asarray(generator(z)), np.asarray(expected))
  assert not np.allclose(np.asarray(generator(z)),
                         np.asarray(sampling.generator_from_state(state)(z)))
  # A state whose EMA is not set (None) falls back to the trained parameters.
  assert not sampling.generator_from_state(_with_ema(state, None)).uses_ema


def test_sample_is_deterministic_batched_and_in_the_value_range():
  generator = sampling.generator_from_state(_state(), value_range=(-1.0, 1.0))
  images = sampling.sample(generator, 23, seed=5, batch_size=10)
  assert images.shape == (23, 4, 4, 1) and images.dtype == np.uint8
  np.testing.assert_array_equal(images, sampling.sample(generator, 23, seed=5, batch_size=10))
  assert not np.array_equal(images, sampling.sample(generator, 23, seed=6, batch_size=10))
  floats = sampling.sample(generator, 23, seed=5, batch_size=7, dtype="float32")
  # The MLP ends in a sigmoid: outputs in [0, 1], which a (-1, 1) range maps to 128..255.
  assert floats.dtype == np.float32 and 0.0 <= floats.min() and floats.max() <= 1.0
  np.testing.assert_array_equal(
      sampling.to_uint8(generator, floats), np.round((floats + 1) / 2 * 255).astype(np.uint8))
  # Another batch size: the same samples, up to float rounding in the matmuls.
  np.testing.assert_allclose(
      floats, sampling.generate(generator, sampling.latents(5, 23, LATENT_DIM), 23), atol=1e-6)
  # `start` continues the numbering.
  np.testing.assert_array_equal(
      sampling.sample(generator, 13, seed=5, batch_size=10, start=10), images[10:])
  assert sampling.generate(generator, np.zeros((0, LATENT_DIM))).shape == (0, 4, 4, 1)


def test_most_confident_picks_the_class_by_probability():
  classes = np.array([2, 1, 2, 2, 0])
  probabilities = np.array([[0.1, 0.1, 0.8], [0, 1, 0], [0.3, 0, 0.7], [0, 0.05, 0.95],
                            [1, 0, 0]])
  chosen, p = sampling.most_confident(classes, probabilities, 2, 2)
  assert chosen.tolist() == [3, 0] and p.tolist() == [0.95, 0.8]
  with pytest.raises(UserError, match="Only 1 of 5 samples are classified as class 1"):
    sampling.most_confident(classes, probabilities, 1, 2)


def test_predict_classes_on_real_fashion_mnist():
  from gan_jax.data import offline  # pylint: disable=g-import-not-at-top

  test = offline.load_idx("fashion_mnist", "test", None)
  classes, probabilities = sampling.predict_classes("fashion_mnist", test.images[:300])
  assert probabilities.shape == (300, 10)
  np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
  # The shipped classifier's test accuracy is about 91% (docs/evaluation.md).
  assert np.mean(classes == test.labels[:300]) > 0.85
  assert sampling.class_names("fashion_mnist")[7] == "Sneaker"
  assert sampling.class_names("rock_paper_scissors") is None


@pytest.mark.parametrize("data, shape", [
    (dict(name="fashion_mnist"), (28, 28, 1)),
    (dict(name="mnist", image_size=32), (32, 32, 1)),
    (dict(name="stacked_mnist"), (28, 28, 3)),
    (dict(name="toy2d", source="toy2d"), (2,)),
    (dict(name="rock_paper_scissors", image_size=64, channels=3), (64, 64, 3)),
    (dict(name="fashion_mnist", image_size=64, channels=3), (64, 64, 3)),
])
def test_image_shape_from_the_config(data, shape):
  config = ml_collections.ConfigDict({"data": {"image_size": None, "channels": None, **data}})
  assert sampling.image_shape_of(config) == shape


def test_load_generator_restores_the_newest_or_a_given_checkpoint(tiny_run):
  workdir, trained = tiny_run
  generator = sampling.load_generator(workdir)
  assert generator.step == 6 and not generator.uses_ema
  assert generator.value_range == (0.0, 1.0) and generator.config.data.name == "fashion_mnist"
  z = sampling.latents(0, 4, generator.latent_dim)
  np.testing.assert_array_equal(np.asarray(generator(z)),
                                np.asarray(sampling.generator_from_state(trained)(z)))
  older = sampling.load_generator(workdir, step=3)
  assert older.step == 3 and not np.allclose(np.asarray(older(z)), np.asarray(generator(z)))
  with pytest.raises(UserError, match=r"--step=4: .* has steps 3, 6"):
    sampling.load_generator(workdir, step=4)


def test_load_generator_errors(tmp_path):
  with pytest.raises(UserError, match="has no config.json"):
    sampling.load_generator(str(tmp_path))
  (tmp_path / "config.json").write_text(json.dumps({"data": {"name": "fashion_mnist"}}))
  with pytest.raises(UserError, match="has no checkpoints yet"):
    sampling.load_generator(str(tmp_path))


# Class-conditional generators and EMA weights of a real run.

def test_a_conditional_run_loads_with_its_ema_weights_and_classes(tiny_conditional_run):
  workdir, state = tiny_conditional_run
  generator = sampling.load_generator(workdir)
  assert generator.uses_ema and generator.num_classes == 10 and generator.step == 6
  z = sampling.latents(0, 4, generator.latent_dim)
  labels = np.array([0, 3, 3, 9])
  expected = state.generator.module.apply(
      {"params": state.generator.ema_params, "batch_stats": state.generator.batch_stats}, z,
      labels, train=False)
  np.testing.assert_allclose(np.asarray(generator(z, labels)), np.asarray(expected), atol=1e-6)
  # The training loop's own grids use the same EMA weights.
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  np.testing.assert_allclose(np.asarray(train_state.generate(state, z, labels)), np.asarray(expected),
                             atol=1e-6)


def test_samples_of_a_conditional_generator_follow_their_labels(tiny_conditional_run):
  generator = sampling.load_generator(tiny_conditional_run[0])
  # Default: sample i of class i % 10; --label: every sample of that class; same latents.
  mixed = sampling.sample(generator, 12, seed=1, dtype="float32")
  of_class_3 = sampling.sample(generator, 12, seed=1, dtype="float32", label=3)
  np.testing.assert_array_equal(mixed[3], of_class_3[3])
  np.testing.assert_array_equal(mixed[4:6], sampling.sample(
      generator, 2, seed=1, dtype="float32", start=4))
  assert not np.allclose(mixed[4], of_class_3[4])
  np.testing.assert_array_equal(sampling.labels_for(generator, [0, 9, 10, 23]), [0, 9, 0, 3])
  assert sampling.image_shape(generator) == (28, 28, 1)
  with pytest.raises(UserError, match="classes 0 .. 9"):
    sampling.sample(generator, 2, label=10)
  with pytest.raises(UserError, match="class-conditional: give a class label"):
    sampling.generate(generator, sampling.latents(0, 2, generator.latent_dim))


def test_labels_are_refused_by_an_unconditional_generator():
  generator = sampling.generator_from_state(_state())
  assert generator.num_classes == 0
  with pytest.raises(UserError, match="not class-conditional"):
    sampling.sample(generator, 2, label=1)
