"""Builds the generator and discriminator a config names (`config.model.name`)."""

from gan_jax.models import mlp

# Model name -> (generator class, discriminator class). Later families register here.
MODELS = {
    "mlp": (mlp.MLPGenerator, mlp.MLPDiscriminator),
}


def create_models(model_config, image_shape):
  """Returns (generator, discriminator) modules for `model_config` and the data's image shape.

  Args:
    model_config: the `config.model` ConfigDict (or any mapping with `name` and the module fields).
    image_shape: (height, width, channels) of the training images.
  """
  generator_cls, discriminator_cls = MODELS[model_config.name]
  generator = generator_cls(
      image_shape=tuple(image_shape),
      hidden_features=tuple(model_config.generator_features),
      leaky_relu_slope=model_config.leaky_relu_slope,
      batch_norm_momentum=model_config.batch_norm_momentum,
      batch_norm_epsilon=model_config.batch_norm_epsilon,
  )
  discriminator = discriminator_cls(
      hidden_features=tuple(model_config.discriminator_features),
      leaky_relu_slope=model_config.leaky_relu_slope,
  )
  return generator, discriminator
