"""Checks a config before any data loads or anything compiles: one message per bad field."""

from gan_jax import input_pipeline, losses, optimizers
from gan_jax.errors import UserError
from gan_jax.models import dcgan, registry


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
  for field in ("batch_size", "num_train_steps", "n_discriminator_steps", "log_every_steps",
                "sample_every_steps", "checkpoint_every_steps", "keep_checkpoints",
                "model.latent_dim", "num_sample_images"):
    _positive_int(config, field)
  output_range = registry.OUTPUT_RANGES[config.model.name]
  _require(tuple(config.data.value_range) == output_range, "data.value_range",
           config.data.value_range,
           f"the {config.model.name!r} generator's outputs lie in {output_range}; use that range")
  _validate_loss(config)
  _validate_optimizer(config.optimizer)
  if config.model.name == "dcgan":
    _validate_dcgan(config)
  _require(config.batch_size % num_devices == 0, "batch_size", config.batch_size,
           f"it must be divisible by the number of devices ({num_devices})")
  _require(isinstance(config.seed, int), "seed", config.seed, "it must be an integer")


def _number(value):
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_loss(config):
  _require(config.loss in losses.LOSSES, "loss", config.loss, f"choose one of {losses.LOSSES}")
  _require(config.generator_loss in losses.GENERATOR_LOSSES, "generator_loss",
           config.generator_loss, f"choose one of {losses.GENERATOR_LOSSES}")
  weight = config.gradient_penalty_weight
  _require(_number(weight) and weight >= 0, "gradient_penalty_weight", weight,
           "it must be a number >= 0 (0 turns the penalty off)")
  if weight > 0:
    _require(not config.model.get("discriminator_batch_norm", False),
             "model.discriminator_batch_norm", config.model.get("discriminator_batch_norm"),
             "the gradient penalty is per example and BatchNorm mixes the examples of a batch; "
             "set it to False (WGAN-GP uses no BatchNorm in the critic)")
  clip = config.discriminator_weight_clip
  _require(clip is None or (_number(clip) and clip > 0), "discriminator_weight_clip", clip,
           "it must be a positive number (WGAN: 0.01) or None")


def _validate_optimizer(optimizer):
  _require(optimizer.name in optimizers.OPTIMIZERS, "optimizer.name", optimizer.name,
           f"choose one of {optimizers.OPTIMIZERS}")
  for field in ("generator_learning_rate", "discriminator_learning_rate"):
    value = optimizer[field]
    _require(_number(value) and value > 0, f"optimizer.{field}", value,
             "it must be a positive number")
  decay_fields = ("b1", "b2") if optimizer.name == "adam" else ("decay",)
  for field in decay_fields:
    value = optimizer.get(field)
    _require(_number(value) and 0 <= value < 1, f"optimizer.{field}", value,
             f"{optimizer.name} needs it in [0, 1)")


def _validate_dcgan(config):
  model = config.model
  for field in ("generator_features", "discriminator_features", "discriminator_hidden_features"):
    value = model[field]
    _require(isinstance(value, (tuple, list)) and all(isinstance(v, int) and v > 0 for v in value),
             f"model.{field}", value, "it must be a tuple of positive integers")
  for field in ("generator_features", "discriminator_features"):
    _require(len(model[field]) > 0, f"model.{field}", model[field], "it needs at least one width")
  _require(model.generator_activation in dcgan.ACTIVATIONS, "model.generator_activation",
           model.generator_activation, f"choose one of {dcgan.ACTIVATIONS}")
  _require(_number(model.dropout_rate) and 0 <= model.dropout_rate < 1, "model.dropout_rate",
           model.dropout_rate, "it must be in [0, 1)")
  _require(model.init_std is None or (_number(model.init_std) and model.init_std > 0),
           "model.init_std", model.init_std,
           "it must be a positive number (Radford: 0.02) or None (LeCun normal)")
  image_size = config.data.get("image_size")
  if isinstance(image_size, int):
    # The layer lists against the image size, before any data loads (native sizes are checked
    # when the models are built).
    registry.check_dcgan_shapes(model, (image_size, image_size))
