"""Builds the generator and discriminator a config names (`config.model.name`)."""

import math

import jax.numpy as jnp

from gan_jax.errors import UserError
from gan_jax.models import dcgan, mlp


def _optional_tuple(value):
  return None if value is None else tuple(value)


def _per_layer(value):
  return value if isinstance(value, int) else tuple(value)


def _create_mlp(model_config, image_shape, dtype):
  # .get: configs written before these fields existed keep the article's choices.
  generator = mlp.MLPGenerator(
      image_shape=tuple(image_shape),
      hidden_features=tuple(model_config.generator_features),
      leaky_relu_slope=model_config.leaky_relu_slope,
      activation=model_config.get("generator_activation", "leaky_relu"),
      output_activation=model_config.get("generator_output_activation", "sigmoid"),
      batch_norm_momentum=model_config.batch_norm_momentum,
      batch_norm_epsilon=model_config.batch_norm_epsilon,
      batch_norm_after_activation=model_config.get("batch_norm_after_activation", True),
      hidden_bias=model_config.get("generator_hidden_bias", True),
      init_std=model_config.get("init_std"),
      dtype=dtype,
  )
  discriminator = mlp.MLPDiscriminator(
      hidden_features=tuple(model_config.discriminator_features),
      leaky_relu_slope=model_config.leaky_relu_slope,
      maxout_pieces=model_config.get("discriminator_maxout_pieces", 1),
      init_std=model_config.get("init_std"),
      dtype=dtype,
  )
  return generator, discriminator


def check_dcgan_shapes(model_config, image_shape):
  """One-line errors for layer lists that do not fit together or do not fit the images."""
  features = tuple(model_config.generator_features)
  strides = dcgan.generator_strides(features, _optional_tuple(model_config.generator_strides))
  if len(strides) != len(features):
    raise UserError(
        f"config.model.generator_strides={tuple(strides)} has {len(strides)} entries but "
        f"config.model.generator_features has {len(features)}: give one stride per width (the "
        "last is the output layer's).")
  size = max(image_shape[:2])
  if math.prod(strides) > size:
    raise UserError(
        f"config.model.generator_strides={tuple(strides)} up-sample by {math.prod(strides)}, "
        f"more than the image size {size}: remove a width from config.model.generator_features "
        "(and its stride).")
  for field, num in (("generator_kernel_sizes", len(features)),
                     ("discriminator_strides", len(model_config.discriminator_features)),
                     ("discriminator_kernel_sizes", len(model_config.discriminator_features)),
                     ("discriminator_pool_sizes", len(model_config.discriminator_features))):
    value = model_config[field]
    if value is not None and not isinstance(value, int) and len(value) != num:
      raise UserError(f"config.model.{field}={tuple(value)} needs {num} entries (one per layer) "
                      "or a single int.")


def _create_dcgan(model_config, image_shape, dtype):
  check_dcgan_shapes(model_config, image_shape)
  shared = dict(
      leaky_relu_slope=model_config.leaky_relu_slope,
      batch_norm_momentum=model_config.batch_norm_momentum,
      batch_norm_epsilon=model_config.batch_norm_epsilon,
      init_std=model_config.init_std,
      dtype=dtype,
  )
  generator = dcgan.DCGANGenerator(
      image_shape=tuple(image_shape),
      features=tuple(model_config.generator_features),
      strides=_optional_tuple(model_config.generator_strides),
      kernel_sizes=_per_layer(model_config.generator_kernel_sizes),
      extra_convs=model_config.generator_extra_convs,
      activation=model_config.generator_activation,
      batch_norm_after_activation=model_config.batch_norm_after_activation,
      upsampling=model_config.get("upsampling", "auto"),
      **shared,
  )
  pool_sizes = model_config.discriminator_pool_sizes
  discriminator = dcgan.DCGANDiscriminator(
      features=tuple(model_config.discriminator_features),
      strides=_optional_tuple(model_config.discriminator_strides),
      kernel_sizes=_per_layer(model_config.discriminator_kernel_sizes),
      pool_sizes=None if pool_sizes is None else _per_layer(pool_sizes),
      hidden_features=tuple(model_config.discriminator_hidden_features),
      dropout_rate=model_config.dropout_rate,
      batch_norm=model_config.discriminator_batch_norm,
      spectral_norm=model_config.spectral_norm,
      **shared,
  )
  return generator, discriminator


# Model name -> function (config.model, image_shape, dtype) -> (generator, discriminator).
MODELS = {
    "mlp": _create_mlp,
    "dcgan": _create_dcgan,
}


# Output activation -> range of the generator's outputs, which the data must match.
_ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "linear": None}


# `config.dtype` -> the modules' compute dtype (parameters are always float32).
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def output_range(model_config):
  """(low, high) of the generator's outputs, or None when they are unbounded (linear)."""
  if model_config.name == "dcgan":
    return _ACTIVATION_RANGES["tanh"]
  return _ACTIVATION_RANGES[model_config.get("generator_output_activation", "sigmoid")]


def create_models(model_config, image_shape, num_classes=0, dtype="float32"):
  """Returns (generator, discriminator) modules for `model_config` and the data's image shape.

  Args:
    model_config: the `config.model` ConfigDict (or any mapping with `name` and the module fields).
    image_shape: (height, width, channels) of the training images.
    num_classes: > 0 for class-conditional networks (labels in [0, num_classes)); 0: unconditional.
    dtype: compute dtype, a key of `DTYPES` (`config.dtype`); parameters stay float32.
  """
  generator, discriminator = MODELS[model_config.name](model_config, image_shape, DTYPES[dtype])
  if num_classes:
    generator = generator.clone(num_classes=num_classes)
    discriminator = discriminator.clone(num_classes=num_classes)
  return generator, discriminator
