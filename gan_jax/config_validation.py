"""Checks a config before any data loads or anything compiles: one message per bad field."""

from gan_jax import input_pipeline, losses
from gan_jax.errors import UserError
from gan_jax.models import registry


def _require(condition, field, value, what):
  if not condition:
    raise UserError(f"config.{field}={value!r} is invalid: {what}.")


def _positive_int(config, field):
  value = config
  for part in field.split("."):
    value = value[part]
  _require(isinstance(value, int) and not isinstance(value, bool) and value > 0, field, value,
           "it must be a positive integer")
  return value


def validate_config(config, num_devices):
  """Raises `UserError` naming the first invalid field of `config`.

  Args:
    config: the run's ConfigDict.
    num_devices: devices the global batch is split over.
  """
  _require(config.data.name in input_pipeline.DATASETS, "data.name", config.data.name,
           f"choose one of {input_pipeline.DATASETS}")
  _require(config.model.name in registry.MODELS, "model.name", config.model.name,
           f"choose one of {tuple(registry.MODELS)}")
  _require(config.generator_loss in losses.GENERATOR_LOSSES, "generator_loss",
           config.generator_loss, f"choose one of {losses.GENERATOR_LOSSES}")
  _require(config.optimizer.name == "adam", "optimizer.name", config.optimizer.name,
           "choose 'adam'")
  for field in ("batch_size", "num_train_steps", "n_discriminator_steps", "log_every_steps",
                "sample_every_steps", "checkpoint_every_steps", "keep_checkpoints",
                "model.latent_dim", "num_sample_images"):
    _positive_int(config, field)
  for field in ("generator_learning_rate", "discriminator_learning_rate"):
    value = config.optimizer[field]
    _require(isinstance(value, (int, float)) and value > 0, f"optimizer.{field}", value,
             "it must be a positive number")
  for field in ("b1", "b2"):
    value = config.optimizer[field]
    _require(0 <= value < 1, f"optimizer.{field}", value, "it must be in [0, 1)")
  _require(config.batch_size % num_devices == 0, "batch_size", config.batch_size,
           f"it must be divisible by the number of devices ({num_devices})")
  _require(isinstance(config.seed, int), "seed", config.seed, "it must be an integer")
