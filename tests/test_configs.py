"""The DCGAN/WGAN configs through the real loop on real Fashion-MNIST (tiny widths, few steps)."""

import functools
import importlib
import json
import os

import jax
import numpy as np
import pytest
from PIL import Image

from configs import pacgan_stacked_mnist, wgan_fashion_mnist
from gan_jax import sampling, train
from gan_jax.evaluation import evaluator as evaluator_lib
from gan_jax.evaluation import inception
from scripts import plot_training_curves


def test_wgan_run_logs_the_critic_loss_and_writes_tanh_samples(tmp_path):
  config = wgan_fashion_mnist.get_config()
  config.model.generator_features = (8, 4)
  config.model.discriminator_features = (4, 8)
  config.batch_size = 8
  config.num_train_steps = 4
  config.log_every_steps = 2
  config.sample_every_steps = 2
  config.checkpoint_every_steps = 2
  config.num_sample_images = 4
  config.eval_every_steps = 0  # The final evaluation is tested elsewhere (tests/test_train.py).
  workdir = str(tmp_path / "wgan")
  state = train.train_and_evaluate(config, workdir)
  assert int(state.step) == 4
  for leaf in jax.tree_util.tree_leaves(state.discriminator.params):
    assert np.abs(np.asarray(leaf)).max() <= np.float32(0.01)

  scalars = plot_training_curves.read_scalars(workdir)
  steps, critic_loss = scalars["train/critic_loss"]
  assert list(steps) == [2, 4]
  # Without a gradient penalty the critic's loss is the -W estimate itself.
  np.testing.assert_allclose(critic_loss, scalars["train/d_loss"][1], rtol=1e-6)
  np.testing.assert_allclose(critic_loss, scalars["train/d_fake"][1] - scalars["train/d_real"][1],
                             rtol=1e-5, atol=1e-7)

  # Samples are mapped from [-1, 1]: a fresh tanh generator (outputs near 0) gives mid-grey
  # pixels, not the black of negative values read as [0, 1].
  grid = np.asarray(Image.open(os.path.join(workdir, "samples", "step_000000.png")))
  images = grid[grid != 255]  # the grid's white padding
  assert 64 < images.mean() < 192



def test_pacgan_stacked_mnist_trains_evaluates_and_samples_from_its_uniform_prior(tmp_path):
  """PacGAN's Stacked MNIST setup through the loop at tiny widths: PacDCGAN2 on fixed packed
  examples in [0, 1], two G updates a step, modes counted on U(-1, 1) latents; the run's
  generator comes back with its prior."""
  config = pacgan_stacked_mnist.get_config()
  config.model.generator_features = (8, 8, 4, 4)
  config.model.discriminator_features = (4, 4, 8, 8)
  config.data.num_examples = 64
  config.pack = 2
  config.batch_size = 8
  config.num_train_steps = 2
  config.log_every_steps = 1
  config.sample_every_steps = 2
  config.checkpoint_every_steps = 2
  config.num_sample_images = 4
  config.eval_every_steps = 2
  config.evaluation.num_samples = 100
  workdir = str(tmp_path / "stacked")
  state = train.train_and_evaluate(config, workdir)
  assert int(state.step) == 2 and state.latent_distribution == "uniform"
  record = json.load(open(os.path.join(workdir, "evaluation", "step_000002.json")))
  modes = record["metrics"]["stacked_mnist_modes"]
  assert record["num_samples"] == 100 and 1 <= modes["modes_covered"] <= 100
  generator = sampling.load_generator(workdir)
  assert generator.latent_distribution == "uniform" and generator.value_range == (0.0, 1.0)
  z = np.asarray(generator.latents(0, 50))
  assert z.min() >= -1 and z.max() <= 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dcgan_rps", "wgan_food101"])
def test_article_configs_train_and_evaluate_fid_on_tfds_mock_data(name, tmp_path, monkeypatch,
                                                                 small_inception_weights):
  """The TFDS datasets of articles 004 and 000 cannot be downloaded here: the configs run through
  the real loop (TFDS source, resize, checkpoints, samples, Inception FID against the held-out
  split) on `tfds.testing.mock_data` images, with their layer structure kept and every width
  shrunk to 4. The Inception network is the width/16, 75x75 one of random weights (the full one
  takes the same path: `config.evaluation.inception_weights`)."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  config = importlib.import_module(f"configs.{name}").get_config()
  model = config.model
  for field in ("generator_features", "discriminator_features", "discriminator_hidden_features"):
    model[field] = (4,) * len(model[field])
  model.latent_dim = 8
  config.batch_size = 2
  config.num_train_steps = 2
  config.log_every_steps = 1
  config.sample_every_steps = 2
  config.num_sample_images = 4
  config.checkpoint_every_steps = 2
  config.eval_every_steps = 2
  config.evaluation.inception_weights, _, _ = small_inception_weights
  config.evaluation.num_samples = 12
  config.evaluation.num_reference = 12
  monkeypatch.setattr(evaluator_lib.inception, "inception_extractor", functools.partial(
      inception.inception_extractor, channel_divisor=16, input_size=75))
  with tfds.testing.mock_data(num_examples=16):
    state = train.train_and_evaluate(config, str(tmp_path / name))
  assert int(state.step) == 2
  with open(tmp_path / name / "evaluation" / "step_000002.json") as f:
    record = json.load(f)
  held_out = "validation" if name == "wgan_food101" else "test"
  assert record["reference"]["split"].startswith(held_out)
  fid = record["metrics"]["fid"]
  assert fid["extractor"] == "inception_v3_pool3_div16" and np.isfinite(fid["value"])
  assert fid["value"] > 0
  scalars = plot_training_curves.read_scalars(str(tmp_path / name))
  assert list(scalars["eval/fid"][0]) == [2]
  size = config.data.image_size
  grid = np.asarray(Image.open(tmp_path / name / "samples" / "step_000002.png"))
  assert grid.shape[-1] == 3 and grid.shape[0] > 2 * size  # a 2x2 grid of RGB size x size images
  assert os.path.isdir(tmp_path / name / "checkpoints" / "2")
