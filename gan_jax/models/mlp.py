"""The fully connected GAN of the MNIST article (seeds/001): small enough to train on a laptop CPU.

Layer table (article 001), with the parameter counts the tests assert:

    Generator                              Discriminator
    z(100)                                 28x28x1 -> flatten 784
    Dense 256  + LeakyReLU(0.2) + BN         Dense 512 + LeakyReLU(0.2)
    Dense 512  + LeakyReLU(0.2) + BN         Dense 256 + LeakyReLU(0.2)
    Dense 1024 + LeakyReLU(0.2) + BN         Dense 1 (logit)
    Dense 784  + sigmoid -> 28x28x1
    1,493,520 parameters incl. BN moving      533,505 parameters
    statistics (1,489,936 trainable)

Class-conditional variants (`num_classes` > 0; the article's networks are the unconditional
ones): G concatenates a learned label embedding to z (Mirza & Osindero, "Conditional Generative
Adversarial Nets", 2014); D adds the projection term <embed(y), phi(x)> on its last hidden
features phi(x) to the logit (Miyato & Koyama, "cGANs with Projection Discriminator", 2018).
With `num_classes` = 0 the modules and their parameters are exactly the unconditional ones.

The article's Keras code uses BatchNormalization(momentum=0.8) with Keras' epsilon of 1e-3; we keep
both so the seed configs reproduce it. The discriminator returns logits: the sigmoid lives in the
losses (numerically stable BCE) and in the metrics.

`dtype` is the compute dtype (`config.dtype`, e.g. bfloat16); parameters stay float32, BatchNorm
reduces in float32, and both networks return float32 so losses and metrics are float32 too.
"""

import math
from typing import Any, Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp

# Hidden activations of the generator and the functions its output may pass through.
ACTIVATIONS = ("leaky_relu", "relu")
OUTPUT_ACTIVATIONS = {"sigmoid": nn.sigmoid, "tanh": jnp.tanh, "linear": lambda x: x}


def kernel_initializer(init_std):
  """N(0, init_std) kernels (the PacGAN and DCGAN codes: 0.02); None: Flax's LeCun normal."""
  return nn.initializers.lecun_normal() if init_std is None else nn.initializers.normal(init_std)


def embed_labels(z, labels, num_classes, label_features):
  """z with a learned embedding of its class labels appended (the conditional generator's input)."""
  if not num_classes:
    return z
  embedding = nn.Embed(num_classes, label_features, name="label_embedding")(labels)
  return jnp.concatenate([z, embedding.astype(z.dtype)], axis=-1)


def projection_logit(logit_layer, features, labels, num_classes):
  """Unconditional logit of `features` [batch, d], plus <embed(y), features> when conditional
  (the projection discriminator, Miyato & Koyama 2018)."""
  logit = logit_layer(features)[:, 0].astype(jnp.float32)  # Losses are computed in float32.
  if not num_classes:
    return logit
  embedding = nn.Embed(num_classes, features.shape[-1], name="label_projection")(labels)
  return logit + jnp.sum(embedding * features.astype(jnp.float32), axis=-1)


class MLPGenerator(nn.Module):
  """Maps latents [batch, latent_dim] to images [batch, *image_shape] (in [0, 1] for sigmoid).

  `image_shape=(2,)` with a linear output is the generator of the 2-D mixture benchmarks
  (VEEGAN, PacGAN), which draw points in the plane rather than pixels.
  """

  image_shape: Sequence[int] = (28, 28, 1)
  hidden_features: Sequence[int] = (256, 512, 1024)
  leaky_relu_slope: float = 0.2
  # "leaky_relu" (article 001) or "relu" (the PacGAN 2-D generator).
  activation: str = "leaky_relu"
  # "sigmoid" (pixels in [0, 1]), "tanh" ([-1, 1]) or "linear" (unbounded, e.g. 2-D points).
  output_activation: str = "sigmoid"
  batch_norm_momentum: float = 0.8
  batch_norm_epsilon: float = 1e-3
  # Compute dtype of every layer (parameters stay float32).
  dtype: Any = jnp.float32
  # Name of the mapped device axis; set by the data-parallel step so BatchNorm computes its
  # statistics over the global batch (the same numbers on 1 or N devices).
  axis_name: Optional[str] = None
  # Class-conditional when > 0: labels [batch] (ints in [0, num_classes)) are embedded in
  # `label_features` numbers appended to z.
  num_classes: int = 0
  label_features: int = 50
  # True: Dense -> activation -> BatchNorm (article 001's Keras code); False: Dense ->
  # BatchNorm -> activation (PacGAN's Blocks code).
  batch_norm_after_activation: bool = True
  # Biases in the hidden Dense layers (PacGAN's G has none: BatchNorm's shift follows).
  hidden_bias: bool = True
  # N(0, init_std) kernels; None: LeCun normal (Flax's default). Biases start at 0 either way.
  init_std: Optional[float] = None

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    x = embed_labels(z, labels, self.num_classes, self.label_features)
    init = kernel_initializer(self.init_std)
    for features in self.hidden_features:
      x = nn.Dense(features, use_bias=self.hidden_bias, kernel_init=init, dtype=self.dtype)(x)
      norm = nn.BatchNorm(
          dtype=self.dtype,
          use_running_average=not train,
          momentum=self.batch_norm_momentum,
          epsilon=self.batch_norm_epsilon,
          axis_name=self.axis_name,
      )
      if not self.batch_norm_after_activation:
        x = norm(x)
      x = (nn.relu(x) if self.activation == "relu" else
           nn.leaky_relu(x, self.leaky_relu_slope))
      if self.batch_norm_after_activation:
        x = norm(x)
    x = nn.Dense(math.prod(self.image_shape), kernel_init=init, dtype=self.dtype)(x)
    x = OUTPUT_ACTIVATIONS[self.output_activation](x.astype(jnp.float32))
    return x.reshape((z.shape[0], *self.image_shape))


class MLPDiscriminator(nn.Module):
  """Maps images [batch, H, W, C] (or points [batch, 2]) to one real/fake logit each, [batch].

  With `maxout_pieces=k > 1` each hidden layer is a linear maxout unit (the max over k linear
  pieces; Goodfellow et al. 2013, "Maxout Networks"), as in the PacGAN 2-D discriminator;
  otherwise Dense + LeakyReLU as in article 001.
  """

  hidden_features: Sequence[int] = (512, 256)
  leaky_relu_slope: float = 0.2
  maxout_pieces: int = 1
  dtype: Any = jnp.float32
  axis_name: Optional[str] = None  # No cross-device statistics here; kept for a uniform interface.
  # Class-conditional (projection on the last hidden layer) when > 0; labels [batch].
  num_classes: int = 0
  # N(0, init_std) kernels; None: LeCun normal.
  init_std: Optional[float] = None

  @nn.compact
  def __call__(self, x, labels=None, train: bool = True):
    del train  # No dropout or BatchNorm in the article's discriminator.
    x = x.reshape((x.shape[0], -1))
    init = kernel_initializer(self.init_std)
    for features in self.hidden_features:
      if self.maxout_pieces > 1:
        x = nn.Dense(features * self.maxout_pieces, kernel_init=init, dtype=self.dtype)(x)
        x = jnp.max(x.reshape((x.shape[0], features, self.maxout_pieces)), axis=-1)
      else:
        x = nn.Dense(features, kernel_init=init, dtype=self.dtype)(x)
        x = nn.leaky_relu(x, self.leaky_relu_slope)
    return projection_logit(nn.Dense(1, kernel_init=init, dtype=self.dtype), x, labels,
                            self.num_classes)
