"""Builds the generator and discriminator a config names (`config.model.name`)."""

import math

import jax.numpy as jnp

from gan_jax import latent_space
from gan_jax.errors import UserError, is_int, is_number, positive_int, require
from gan_jax.models import dcgan, mlp


def _optional_tuple(value):
  return None if value is None else tuple(value)


def _per_layer(value):
  return value if isinstance(value, int) else tuple(value)


def _create_mlp(model_config, image_shape, dtype):
  generator = mlp.MLPGenerator(
      image_shape=tuple(image_shape),
      hidden_features=tuple(model_config.generator_features),
      leaky_relu_slope=model_config.leaky_relu_slope,
      activation=model_config.generator_activation,
      output_activation=model_config.generator_output_activation,
      batch_norm_momentum=model_config.batch_norm_momentum,
      batch_norm_epsilon=model_config.batch_norm_epsilon,
      batch_norm_after_activation=model_config.batch_norm_after_activation,
      hidden_bias=model_config.generator_hidden_bias,
      init_std=model_config.init_std,
      dtype=dtype,
  )
  discriminator = mlp.MLPDiscriminator(
      hidden_features=tuple(model_config.discriminator_features),
      leaky_relu_slope=model_config.leaky_relu_slope,
      maxout_pieces=model_config.discriminator_maxout_pieces,
      init_std=model_config.init_std,
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
      upsampling=model_config.upsampling,
      dense_projection=model_config.generator_dense_projection,
      exact_layer_sizes=model_config.generator_exact_layer_sizes,
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
      truncated_conv_init=model_config.discriminator_truncated_init,
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
  return _ACTIVATION_RANGES[model_config.generator_output_activation]


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


def _tuple_of_positive_ints(value, field, allow_empty=True):
  require(isinstance(value, (tuple, list)) and all(is_int(v) and v > 0 for v in value)
          and (allow_empty or len(value) > 0), field, value,
          "it must be a tuple of positive integers" if allow_empty or value else
          "it needs at least one width")


def _validate_mlp(model):
  require(model.generator_activation in mlp.ACTIVATIONS, "model.generator_activation",
          model.generator_activation, f"choose one of {mlp.ACTIVATIONS}")
  require(model.generator_output_activation in mlp.OUTPUT_ACTIVATIONS,
          "model.generator_output_activation", model.generator_output_activation,
          f"choose one of {tuple(mlp.OUTPUT_ACTIVATIONS)}")
  pieces = model.discriminator_maxout_pieces
  require(is_int(pieces) and pieces >= 1, "model.discriminator_maxout_pieces", pieces,
          "it must be an integer >= 1 (1 = Dense + LeakyReLU)")
  for field in ("batch_norm_after_activation", "generator_hidden_bias"):
    require(isinstance(model[field], bool), f"model.{field}", model[field],
            "it must be True or False")
  require(model.init_std is None or (is_number(model.init_std) and model.init_std > 0),
          "model.init_std", model.init_std,
          "it must be a positive number (PacGAN: 0.02) or None (LeCun normal)")


def _validate_dcgan(config):
  model = config.model
  for field in ("generator_features", "discriminator_features"):
    _tuple_of_positive_ints(model[field], f"model.{field}", allow_empty=False)
  _tuple_of_positive_ints(model.discriminator_hidden_features,
                          "model.discriminator_hidden_features")
  require(model.generator_activation in dcgan.ACTIVATIONS, "model.generator_activation",
          model.generator_activation, f"choose one of {dcgan.ACTIVATIONS}")
  require(model.upsampling in dcgan.UPSAMPLING, "model.upsampling", model.upsampling,
          f"choose one of {dcgan.UPSAMPLING}")
  require(is_number(model.dropout_rate) and 0 <= model.dropout_rate < 1, "model.dropout_rate",
          model.dropout_rate, "it must be in [0, 1)")
  require(model.init_std is None or (is_number(model.init_std) and model.init_std > 0),
          "model.init_std", model.init_std,
          "it must be a positive number (Radford: 0.02) or None (LeCun normal)")
  for field in ("generator_dense_projection", "generator_exact_layer_sizes",
                "discriminator_truncated_init"):
    require(isinstance(model[field], bool), f"model.{field}", model[field],
            "it must be True or False")
  require(not model.discriminator_truncated_init or model.init_std is not None,
          "model.discriminator_truncated_init", model.discriminator_truncated_init,
          "it truncates N(0, init_std): set config.model.init_std (e.g. 0.02) or turn it off")
  image_size = config.data.get("image_size")
  if isinstance(image_size, int):
    # The layer lists against the image size, before any data loads (native sizes are checked
    # when the models are built).
    check_dcgan_shapes(model, (image_size, image_size))


def validate(config, points):
  """The `config.model` and `config.dtype` checks; `points`: the data are 2-D points."""
  model = config.model
  require(model.name in MODELS, "model.name", model.name, f"choose one of {tuple(MODELS)}")
  positive_int(config, "model.latent_dim")
  require(model.latent_distribution in latent_space.LATENT_DISTRIBUTIONS,
          "model.latent_distribution", model.latent_distribution,
          f"choose one of {latent_space.LATENT_DISTRIBUTIONS}")
  for field in ("generator_features", "discriminator_features"):
    if model.get(field) is not None:
      _tuple_of_positive_ints(model[field], f"model.{field}")
  slope = model.get("leaky_relu_slope")
  require(slope is None or (is_number(slope) and 0 <= slope < 1), "model.leaky_relu_slope",
          slope, "it must be in [0, 1)")
  momentum = model.get("batch_norm_momentum")
  require(momentum is None or (is_number(momentum) and 0 <= momentum < 1),
          "model.batch_norm_momentum", momentum,
          "it must be in [0, 1) (the weight of the old moving average)")
  epsilon = model.get("batch_norm_epsilon")
  require(epsilon is None or (is_number(epsilon) and epsilon > 0), "model.batch_norm_epsilon",
          epsilon, "it must be a positive number")
  if model.name == "mlp":
    _validate_mlp(model)
  else:
    _validate_dcgan(config)
  generated_range = output_range(model)
  if points:
    require(generated_range is None, "model.generator_output_activation",
            model.get("generator_output_activation"), "2-D points are unbounded: use an 'mlp' "
            "model with 'linear' output (configs/toy2d_ring8.py)")
  elif generated_range is not None:
    low, high = config.data.value_range
    if config.data.get("inside_generator_range", False):
      require(generated_range[0] <= low and high <= generated_range[1], "data.value_range",
              config.data.value_range, f"the {model.name!r} generator's outputs lie in "
              f"{generated_range}; choose a range inside it")
    else:
      require((low, high) == generated_range, "data.value_range", config.data.value_range,
              f"the {model.name!r} generator's outputs lie in {generated_range}; use that range "
              "(or set config.data.inside_generator_range=True for data inside it)")
  require(config.dtype in DTYPES, "dtype", config.dtype, f"choose one of {tuple(DTYPES)}")
