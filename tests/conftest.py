"""Shared fixtures. Two CPU devices are simulated so the data-parallel paths run for real."""

import os

# Must be set before JAX initialises its backend.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # pylint: disable=g-import-not-at-top

from configs import mlp_fashion_mnist  # pylint: disable=g-import-not-at-top
from gan_jax import input_pipeline  # pylint: disable=g-import-not-at-top


@pytest.fixture(scope="session")
def fashion_mnist():
  """Real Fashion-MNIST training images (Debian's dataset-fashion-mnist, installed by .ci/run)."""
  return input_pipeline.load_arrays("fashion_mnist", "train")


@pytest.fixture
def tiny_config():
  """The article config with a handful of steps and frequent side work."""
  config = mlp_fashion_mnist.get_config()
  config.batch_size = 16
  config.num_train_steps = 6
  config.log_every_steps = 2
  config.sample_every_steps = 3
  config.checkpoint_every_steps = 3
  config.num_sample_images = 16
  config.eval_every_steps = 0  # tests/test_train.py turns it on where it is the subject.
  return config


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
  """A real 6-step MLP run on Fashion-MNIST (small widths), checkpoints at steps 3 and 6: the
  workdir the sampling, generate and example tests read. Returns (workdir, final state)."""
  from gan_jax import train  # pylint: disable=g-import-not-at-top

  workdir = str(tmp_path_factory.mktemp("tiny_run"))
  return workdir, train.train_and_evaluate(_tiny_run_config(), workdir)


def _tiny_run_config():
  """6 steps of the article's MLP at small widths, checkpoints at steps 3 and 6."""
  config = mlp_fashion_mnist.get_config()
  config.model.generator_features = (32, 64)
  config.model.discriminator_features = (64, 32)
  config.batch_size = 16
  config.num_train_steps = 6
  config.log_every_steps = 3
  config.sample_every_steps = 6
  config.checkpoint_every_steps = 3
  config.num_sample_images = 16
  return config


@pytest.fixture(scope="session")
def tiny_conditional_run(tmp_path_factory):
  """A real 6-step class-conditional MLP run with an EMA of G's weights (decay 0.5), as
  `tiny_run`: checkpoints at steps 3 and 6. Returns (workdir, final state)."""
  from gan_jax import train  # pylint: disable=g-import-not-at-top

  workdir = str(tmp_path_factory.mktemp("tiny_conditional_run"))
  return workdir, train.train_and_evaluate(_tiny_conditional_config(), workdir)


@pytest.fixture
def tiny_conditional_config():
  """The config of `tiny_conditional_run`."""
  return _tiny_conditional_config()


def _tiny_conditional_config():
  config = _tiny_run_config()
  config.eval_every_steps = 0
  config.conditional = True
  config.ema_decay = 0.5
  return config
