"""The 2-D mixture benchmarks end to end: configs, the point generator, scatter plots, evaluation."""

import json
import os

import jax
import numpy as np
import pytest

from configs import toy2d_grid25, toy2d_ring8
from gan_jax import config_validation, train
from gan_jax.errors import UserError
from gan_jax.evaluation import mixtures
from gan_jax.models import registry


@pytest.mark.parametrize("module,name", [(toy2d_ring8, "toy2d_ring8"),
                                         (toy2d_grid25, "toy2d_grid25")])
def test_configs_train_on_the_mixture_the_evaluation_knows(module, name):
  config = module.get_config()
  config_validation.validate_config(config, 1)
  trained_on = mixtures.from_data_config(config.data)
  published = mixtures.MIXTURES[name]  # The PacGAN layouts the published numbers come from.
  np.testing.assert_allclose(trained_on.centres, published.centres, atol=1e-6)
  assert trained_on.std == pytest.approx(published.std)
  generator, discriminator = registry.create_models(config.model, (2,))
  variables = generator.init(jax.random.key(0), np.zeros((3, 2), np.float32), train=False)
  points = generator.apply(variables, np.ones((3, 2), np.float32), train=False)
  assert points.shape == (3, 2)
  # Linear output: the last layer's pre-activation, unsquashed.
  hidden = variables["params"]["Dense_4"]
  assert hidden["kernel"].shape == (400, 2)
  assert generator.output_activation == "linear" and discriminator.maxout_pieces == 5


def test_points_need_an_unbounded_generator():
  config = toy2d_ring8.get_config()
  config.model.generator_output_activation = "sigmoid"
  with pytest.raises(UserError, match="generator_output_activation.*2-D points are unbounded"):
    config_validation.validate_config(config, 1)


def test_a_short_ring_run_writes_scatter_plots_and_mode_counts(tmp_path):
  config = toy2d_ring8.get_config()
  config.model.generator_features = (32, 32)
  config.model.discriminator_features = (16,)
  config.num_train_steps = 4
  config.log_every_steps = 2
  config.sample_every_steps = 4
  config.checkpoint_every_steps = 4
  config.num_sample_images = 200
  config.eval_every_steps = 4
  config.evaluation.num_samples = 500
  config.pack = 2
  workdir = str(tmp_path)
  train.train_and_evaluate(config, workdir)
  from PIL import Image  # pylint: disable=g-import-not-at-top
  scatter = np.asarray(Image.open(os.path.join(workdir, "samples", "step_000004.png")))
  assert scatter.ndim == 3 and scatter.shape[0] > 100  # A plot, not an image grid of points.
  with open(os.path.join(workdir, "evaluation", "step_000004.json")) as f:
    record = json.load(f)
  modes = record["metrics"]["mixture_modes"]
  assert modes["num_modes"] == 8 and modes["num_samples"] == 500
  assert 0 <= modes["modes_captured"] <= 8
  np.testing.assert_allclose(modes["centres"], mixtures.MIXTURES["toy2d_ring8"].centres,
                             atol=1e-6)
