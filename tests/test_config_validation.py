"""Model, loss and optimizer checks: one UserError naming the field, before anything runs."""

import importlib

import pytest

from configs import dcgan_fashion_mnist, mlp_fashion_mnist, pacgan_stacked_mnist
from configs import wgan_fashion_mnist
from gan_jax import config_validation, input_pipeline
from gan_jax.errors import UserError

CONFIGS = ("default", "mlp_fashion_mnist", "mlp_mnist", "dcgan_fashion_mnist", "dcgan_mnist",
           "dcgan_fashion_mnist_2500", "dcgan_mnist_2500",
           "dcgan64", "dcgan_rps", "wgan_fashion_mnist", "wgan_food101", "toy2d_ring8",
           "toy2d_grid25", "stacked_mnist", "pacgan_ring8", "pacgan_grid25", "pacgan_stacked_mnist",
           "test")


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_is_valid(name):
  """TFDS names (rock_paper_scissors, food101) are checked against TFDS' registry."""
  config = importlib.import_module(f"configs.{name}").get_config()
  config_validation.validate_config(config, num_devices=2)


def _set(config, field, value):
  node = config
  *parents, leaf = field.split(".")
  for parent in parents:
    node = node[parent]
  with node.ignore_type():
    node[leaf] = value


@pytest.mark.parametrize("base, field, value, message", [
    (dcgan_fashion_mnist, "loss", "wgan",
     "config.loss='wgan' is invalid: choose one of ('bce', 'wasserstein', 'hinge', "
     "'least_squares')"),
    (dcgan_fashion_mnist, "gradient_penalty_weight", -1.0,
     "config.gradient_penalty_weight=-1.0 is invalid: it must be a number >= 0"),
    (wgan_fashion_mnist, "gradient_penalty_weight", 10.0,
     "config.model.discriminator_batch_norm=True is invalid: the gradient penalty is per example"),
    (dcgan_fashion_mnist, "r1_gamma", -1.0,
     "config.r1_gamma=-1.0 is invalid: it must be a number >= 0, the γ of γ/2 · E‖∇D(x)‖²"),
    (dcgan_fashion_mnist, "r2_gamma", "10", "config.r2_gamma='10' is invalid"),
    (dcgan_fashion_mnist, "regularization_interval", 0,
     "config.regularization_interval=0 is invalid: it must be a positive integer"),
    (wgan_fashion_mnist, "r1_gamma", 10.0,
     "config.model.discriminator_batch_norm=True is invalid: R1/R2 penalise each image's own "
     "input gradient"),
    (dcgan_fashion_mnist, "data.subset_size", 0,
     "config.data.subset_size=0 is invalid: it must be None or a positive integer"),
    (wgan_fashion_mnist, "discriminator_weight_clip", 0.0,
     "config.discriminator_weight_clip=0.0 is invalid: it must be a positive number"),
    (dcgan_fashion_mnist, "optimizer.name", "sgd",
     "config.optimizer.name='sgd' is invalid: choose one of ('adam', 'rmsprop')"),
    (dcgan_fashion_mnist, "optimizer.name", "rmsprop",
     "config.optimizer.decay=None is invalid: rmsprop needs it in [0, 1)"),
    (wgan_fashion_mnist, "optimizer.decay", 1.0, "config.optimizer.decay=1.0 is invalid"),
    (dcgan_fashion_mnist, "optimizer.b1", 1.5, "config.optimizer.b1=1.5 is invalid"),
    (dcgan_fashion_mnist, "data.value_range", (0.0, 1.0),
     "config.data.value_range=(0.0, 1.0) is invalid: the 'dcgan' generator's outputs lie in "
     "(-1.0, 1.0)"),
    (dcgan_fashion_mnist, "model.generator_activation", "tanh",
     "config.model.generator_activation='tanh' is invalid: choose one of ('leaky_relu', 'relu')"),
    (dcgan_fashion_mnist, "model.generator_features", (64, 0),
     "config.model.generator_features=(64, 0) is invalid: it must be a tuple of positive integers"),
    (dcgan_fashion_mnist, "model.discriminator_features", (),
     "config.model.discriminator_features=() is invalid: it needs at least one width"),
    (dcgan_fashion_mnist, "model.dropout_rate", 1.0, "config.model.dropout_rate=1.0 is invalid"),
    (dcgan_fashion_mnist, "model.init_std", 0.0, "config.model.init_std=0.0 is invalid"),
    (dcgan_fashion_mnist, "data.image_size", 12,
     "config.model.generator_strides=(2, 2) up-sample by 4"),
    (wgan_fashion_mnist, "update_order", "shared_forward",
     "config.n_discriminator_steps=5 is invalid: config.update_order='shared_forward' makes one "
     "D and one G update from one generator forward; set it to 1"),
    (wgan_fashion_mnist, "update_order", "simultaneous",
     "config.n_discriminator_steps=5 is invalid: config.update_order='simultaneous' makes one "
     "D and one G update from one generator forward; set it to 1"),
    (dcgan_fashion_mnist, "update_order", "together",
     "config.update_order='together' is invalid: choose one of ('alternating', "
     "'shared_forward', 'simultaneous')"),
    (dcgan_fashion_mnist, "steps_per_dispatch", 0,
     "config.steps_per_dispatch=0 is invalid: it must be a positive integer"),
    (dcgan_fashion_mnist, "dtype", "bf16",
     "config.dtype='bf16' is invalid: choose one of ('float32', 'bfloat16')"),
    (dcgan_fashion_mnist, "model.upsampling", "pixel_shuffle",
     "config.model.upsampling='pixel_shuffle' is invalid: choose one of ('auto', "
     "'conv_transpose', 'subpixel')"),
    (dcgan_fashion_mnist, "ema_decay", 1.0,
     "config.ema_decay=1.0 is invalid: it must be in [0, 1), e.g. 0.999"),
    (dcgan_fashion_mnist, "ema_decay", -0.1, "config.ema_decay=-0.1 is invalid"),
    (dcgan_fashion_mnist, "conditional", "yes",
     "config.conditional='yes' is invalid: it must be True or False"),
    (dcgan_fashion_mnist, "model.latent_distribution", "gaussian",
     "config.model.latent_distribution='gaussian' is invalid: choose one of ('normal', "
     "'uniform')"),
    (dcgan_fashion_mnist, "n_generator_steps", 0,
     "config.n_generator_steps=0 is invalid: it must be a positive integer"),
    (dcgan_fashion_mnist, "generator_latents", "same",
     "config.generator_latents='same' is invalid: choose one of ('fresh', 'discriminator')"),
    (pacgan_stacked_mnist, "update_order", "simultaneous",
     "config.n_generator_steps=2 is invalid: config.update_order='simultaneous' makes one D and "
     "one G update from one generator forward; set it to 1"),
    (dcgan_fashion_mnist, "data.fixed_packs", True,
     "config.data.fixed_packs=True is invalid: PacGAN's packed examples are the inputs of D: "
     "set config.pack_batch='inputs'"),
    (dcgan_fashion_mnist, "data.reshuffle", 0,
     "config.data.reshuffle=0 is invalid: it must be True or False"),
    (pacgan_stacked_mnist, "data.value_range", (-2.0, 1.0),
     "config.data.value_range=(-2.0, 1.0) is invalid: the 'dcgan' generator's outputs lie in "
     "(-1.0, 1.0); choose a range inside it"),
    (dcgan_fashion_mnist, "model.discriminator_truncated_init", "yes",
     "config.model.discriminator_truncated_init='yes' is invalid: it must be True or False"),
    (dcgan_fashion_mnist, "model.generator_exact_layer_sizes", 1,
     "config.model.generator_exact_layer_sizes=1 is invalid: it must be True or False"),
])
def test_bad_model_loss_and_optimizer_values(base, field, value, message):
  config = base.get_config()
  _set(config, field, value)
  if field == "data.image_size":
    # Known before any data loads: 12 fits (3 -> 6 -> 12), 3 does not (4 > 3).
    config_validation.validate_config(config, num_devices=1)
    _set(config, field, 3)
  with pytest.raises(UserError) as e:
    config_validation.validate_config(config, num_devices=1)
  assert message in str(e.value)
