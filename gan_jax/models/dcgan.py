"""Convolutional GAN networks (DCGAN family): one code path for 28x28 up to 300x300 images.

Radford et al., "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks" (2015): all-convolutional networks, BatchNorm in both, ReLU in G and leaky
ReLU in D, tanh output, weights from N(0, 0.02). Article 004 (Rock-Paper-Scissors at 300x300x3)
uses the same idea with leaky ReLU in G, max-pooling and dropout in D.

Generator: z is a 1x1 map with latent_dim channels. The first layer projects it to an s x s map
of `features[0]` channels (a transposed convolution whose kernel and stride are both s, i.e. a
Dense layer with one bias per channel). Each further width in `features` is a transposed
convolution with its entry of `strides` (the up-sampling factor); the output layer is a
transposed convolution to the image channels with the last stride (1 = a plain convolution),
then tanh.

Up-sampling path: s = ceil(size / prod(strides)), so the map grows to s * prod(strides) >= size
and the output is centre-cropped to exactly `image_shape` when that product does not divide the
size. With `exact_layer_sizes`, each layer instead outputs the size TensorFlow's
`conv2d_transpose` is asked for in DCGAN-tensorflow (the code of PacGAN's and VEEGAN's Stacked
MNIST experiments): ceil(size / product of the strides still to come), e.g. 2 -> 4 -> 7 -> 14 ->
28, each layer's "SAME" output cut at TensorFlow's offset. Examples (strides default to 2
everywhere):

    28x28   features (128, 64), strides (2, 2):         7 -> 14 -> 28
    64x64   features (1024, 512, 256, 128) (Radford):   4 -> 8 -> 16 -> 32 -> 64
    300x300 strides (5, 3, 2, 2, 1) (article 004):      5 -> 25 -> 75 -> 150 -> 300 -> 300
    300x300 features (f0, f1), strides (2, 2):          75 -> 150 -> 300
    300x300 four stride-2 stages:                       19 -> 38 -> 76 -> 152 -> 304, crop 2 px
                                                        each side

Discriminator: one block per width: convolution (stride `strides[i]`, default 2), optional
BatchNorm (never on the first block, as in DCGAN), leaky ReLU, optional max-pooling (window =
stride = `pool_sizes[i]`, "SAME" padding as Keras), dropout; then flatten, optional hidden Dense
layers, and one logit per image (no sigmoid: the losses work on logits / critic values).

Spectral normalisation (Miyato et al., "Spectral Normalization for Generative Adversarial
Networks", 2018) wraps every discriminator layer in `nn.SpectralNorm`. Its power-iteration
vectors live in the "batch_stats" collection next to BatchNorm's statistics, so the train state
and step carry them without special cases; they depend only on the (replicated) weights, so all
devices hold the same values.

`dtype` is the compute dtype (`config.dtype`, e.g. bfloat16); parameters stay float32, BatchNorm
reduces in float32, and both networks return float32 so losses and metrics are float32 too.

Class-conditional variants (`num_classes` > 0), as for the MLP (`gan_jax.models.mlp`): the label
embedding is appended to z before the projection; D adds <embed(y), phi(x)> on its flattened
(or last hidden) features. The projection embedding is not spectrally normalised.
"""

import math
from typing import Any, Optional, Sequence, Union

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import patch_conv, subpixel
from gan_jax.models.mlp import embed_labels, kernel_initializer, projection_logit

ACTIVATIONS = ("leaky_relu", "relu")
# "conv_transpose": XLA's transposed convolution (lax.conv_transpose); "subpixel": a stride-1
# convolution + depth-to-space (`gan_jax.models.subpixel`), ~4x faster forward + backward on
# XLA:CPU; "auto": subpixel on CPU, conv_transpose on GPU/TPU (where cuDNN/XLA handle transposed
# convolutions natively; the sub-pixel form is not measured there).
UPSAMPLING = ("auto", "conv_transpose", "subpixel")


def upsampling_method(upsampling):
  """The implementation `upsampling` picks on the default backend."""
  if upsampling == "auto":
    return "subpixel" if jax.default_backend() == "cpu" else "conv_transpose"
  if upsampling not in UPSAMPLING:
    raise ValueError(f"Unknown upsampling {upsampling!r}; expected one of {UPSAMPLING}.")
  return upsampling


def generator_strides(features, strides=None):
  """Up-sampling factor of each layer after the projection (default: 2 for all)."""
  return tuple(strides) if strides is not None else (2,) * len(features)


def projection_size(size, strides):
  """Side of the projected map: the smallest s with s * prod(strides) >= size."""
  return math.ceil(size / math.prod(strides))


def _per_layer(value, num, name):
  values = (value,) * num if isinstance(value, int) else tuple(value)
  if len(values) != num:
    raise ValueError(f"{name} has {len(values)} entries; expected {num} (one per layer).")
  return values


def _tensorflow_crop_offset(size_in, size_out, kernel, stride):
  """Where TensorFlow's SAME transposed convolution to `size_out` pixels starts inside ours to
  size_in * stride (both are gradients of a SAME convolution; they differ in padding only)."""
  padding = (size_in - 1) * stride + kernel - size_out
  return padding // 2 - (kernel - stride) // 2


def layer_sizes(size, strides):
  """Side of the map after each layer when every layer outputs ceil(size / the product of the
  strides after it): [projection, then each up-sampling layer's], the last = size."""
  sizes = [size]
  for stride in reversed(strides):
    sizes.insert(0, math.ceil(sizes[0] / stride))
  return sizes


def _center_crop(x, height, width):
  top = (x.shape[1] - height) // 2
  left = (x.shape[2] - width) // 2
  return x[:, top:top + height, left:left + width, :]


class DCGANGenerator(nn.Module):
  """Maps latents [batch, latent_dim] to images [batch, *image_shape] in [-1, 1] (tanh)."""

  image_shape: Sequence[int] = (64, 64, 3)
  # Channels of the projected map, then of each up-sampling layer (the image channels follow).
  features: Sequence[int] = (1024, 512, 256, 128)
  # Up-sampling factor of each layer after the projection, the output layer's last; len(features)
  # entries. None: all 2.
  strides: Optional[Sequence[int]] = None
  # Kernel side of each layer after the projection (an int: the same for all).
  kernel_sizes: Union[int, Sequence[int]] = 4
  # Article 004: a stride-1 convolution of the same width (and activation) after the projection
  # and after each up-sampling layer; the projection's uses the first layer's kernel size.
  extra_convs: bool = False
  activation: str = "relu"
  leaky_relu_slope: float = 0.2
  # False: conv -> BatchNorm -> activation (Radford); True: conv -> activation -> BatchNorm
  # (article 004's Keras code, like the MLP of article 001).
  batch_norm_after_activation: bool = False
  batch_norm_momentum: float = 0.9
  batch_norm_epsilon: float = 1e-5
  # Standard deviation of N(0, std) kernel initialisation (Radford: 0.02); None: LeCun normal.
  init_std: Optional[float] = None
  # Compute dtype of every layer (parameters stay float32).
  dtype: Any = jnp.float32
  # Set by the data-parallel step so BatchNorm uses statistics of the global batch.
  axis_name: Optional[str] = None
  # Class-conditional when > 0: the labels' embedding (`label_features` numbers) is appended to z.
  num_classes: int = 0
  label_features: int = 50
  # How stride > 1 transposed convolutions are computed (`UPSAMPLING`); the same function and
  # parameters either way.
  upsampling: str = "auto"
  # Project z with a Dense layer to s*s*features[0] units, one bias per unit (DCGAN-tensorflow's
  # `linear`), instead of a transposed convolution with one bias per channel.
  dense_projection: bool = False
  # Each up-sampling layer outputs TensorFlow's size (`layer_sizes`) instead of cropping once at
  # the end (see the module docstring).
  exact_layer_sizes: bool = False

  def _activation(self, x):
    if self.activation == "relu":
      return nn.relu(x)
    if self.activation == "leaky_relu":
      return nn.leaky_relu(x, self.leaky_relu_slope)
    raise ValueError(f"Unknown activation {self.activation!r}; expected one of {ACTIVATIONS}.")

  def _normalize_and_activate(self, x, train):
    norm = nn.BatchNorm(use_running_average=not train, momentum=self.batch_norm_momentum,
                        epsilon=self.batch_norm_epsilon, dtype=self.dtype,
                        axis_name=self.axis_name)
    if self.batch_norm_after_activation:
      return norm(self._activation(x))
    return self._activation(norm(x))

  def _extra_conv(self, x, kernel, kernel_init):
    if not self.extra_convs:
      return x
    x = nn.Conv(x.shape[-1], (kernel, kernel), padding="SAME", kernel_init=kernel_init,
                dtype=self.dtype)(x)
    return self._activation(x)

  def _up_sample(self, x, features, kernel, stride, kernel_init, name, size=None):
    """A stride-`stride` "SAME" transposed convolution, computed as `upsampling` says; `size`
    (height, width): cut to TensorFlow's output of that size."""
    if upsampling_method(self.upsampling) == "subpixel" and stride > 1:
      x_out = subpixel.SubPixelConvTranspose(features, (kernel, kernel), (stride, stride),
                                             kernel_init=kernel_init, dtype=self.dtype,
                                             name=name)(x)
    else:
      x_out = nn.ConvTranspose(features, (kernel, kernel), strides=(stride, stride),
                               padding="SAME", kernel_init=kernel_init, dtype=self.dtype,
                               name=name)(x)
    if size is None:
      return x_out
    top, left = (_tensorflow_crop_offset(x.shape[axis], size[axis - 1], kernel, stride)
                 for axis in (1, 2))
    return x_out[:, top:top + size[0], left:left + size[1], :]

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    z = embed_labels(z, labels, self.num_classes, self.label_features)
    height, width, channels = self.image_shape
    strides = generator_strides(self.features, self.strides)
    kernel_sizes = _per_layer(self.kernel_sizes, len(strides), "kernel_sizes")
    if len(strides) != len(self.features):
      raise ValueError(f"strides has {len(strides)} entries; expected {len(self.features)}.")
    kernel_init = kernel_initializer(self.init_std)
    base = (projection_size(height, strides), projection_size(width, strides))
    if self.exact_layer_sizes:
      sizes = list(zip(layer_sizes(height, strides), layer_sizes(width, strides)))[1:]
      if any(kernel < stride for kernel, stride in zip(kernel_sizes, strides)):
        raise ValueError("exact_layer_sizes needs kernel sizes >= their strides.")
    else:
      sizes = [None] * len(strides)

    if self.dense_projection:
      x = nn.Dense(base[0] * base[1] * self.features[0], kernel_init=kernel_init,
                   dtype=self.dtype, name="Dense_0")(z)
      x = x.reshape((z.shape[0], *base, self.features[0]))
    else:
      x = z.reshape((z.shape[0], 1, 1, z.shape[-1]))
      # Named explicitly so both up-sampling implementations have the same parameter tree.
      x = nn.ConvTranspose(self.features[0], base, strides=base, padding="VALID",
                           kernel_init=kernel_init, dtype=self.dtype, name="ConvTranspose_0")(x)
    x = self._extra_conv(self._normalize_and_activate(x, train), kernel_sizes[0], kernel_init)
    layers = list(zip(self.features[1:], strides, kernel_sizes, sizes)) + [
        (channels, strides[-1], kernel_sizes[-1], sizes[-1])]
    for index, (features, stride, kernel, size) in enumerate(layers, start=1):
      x = self._up_sample(x, features, kernel, stride, kernel_init, f"ConvTranspose_{index}",
                          size)
      if index < len(layers):
        x = self._extra_conv(self._normalize_and_activate(x, train), kernel, kernel_init)
    return jnp.tanh(_center_crop(x, height, width).astype(jnp.float32))


class DCGANDiscriminator(nn.Module):
  """Maps images [batch, H, W, C] to one logit (critic value) per image, shape [batch]."""

  # Channels of each convolution block.
  features: Sequence[int] = (128, 256, 512, 1024)
  # Convolution stride of each block; None: all 2.
  strides: Optional[Sequence[int]] = None
  kernel_sizes: Union[int, Sequence[int]] = 4
  # Max-pooling window (= stride) after each block's activation; None: no pooling.
  pool_sizes: Optional[Sequence[int]] = None
  # Widths of Dense layers between the flattened features and the logit.
  hidden_features: Sequence[int] = ()
  # Dropout after each block (0: none).
  dropout_rate: float = 0.0
  # BatchNorm on every block but the first (Radford). Off for WGAN-GP: the gradient penalty is
  # per example, BatchNorm couples the examples of a batch.
  batch_norm: bool = False
  spectral_norm: bool = False
  leaky_relu_slope: float = 0.2
  batch_norm_momentum: float = 0.9
  batch_norm_epsilon: float = 1e-5
  init_std: Optional[float] = None
  # The convolutions' kernels from N(0, init_std) truncated at 2 std (DCGAN-tensorflow's
  # `conv2d`) instead of N(0, init_std); the Dense layers keep N(0, init_std).
  truncated_conv_init: bool = False
  dtype: Any = jnp.float32
  axis_name: Optional[str] = None
  # Class-conditional (projection on the features before the logit) when > 0; labels [batch].
  num_classes: int = 0

  def _layer(self, layer, x, train):
    if self.spectral_norm:
      return nn.SpectralNorm(layer)(x, update_stats=train)
    return layer(x)

  @nn.compact
  def __call__(self, x, labels=None, train: bool = True):
    num_blocks = len(self.features)
    strides = _per_layer(self.strides if self.strides is not None else 2, num_blocks, "strides")
    kernel_sizes = _per_layer(self.kernel_sizes, num_blocks, "kernel_sizes")
    pool_sizes = (None,) * num_blocks if self.pool_sizes is None else _per_layer(
        self.pool_sizes, num_blocks, "pool_sizes")
    kernel_init = kernel_initializer(self.init_std)
    conv_init = kernel_init
    if self.truncated_conv_init:
      if self.init_std is None:
        raise ValueError("truncated_conv_init needs init_std.")
      conv_init = nn.initializers.truncated_normal(self.init_std)
    for i, (features, stride, kernel, pool) in enumerate(
        zip(self.features, strides, kernel_sizes, pool_sizes)):
      # nn.Conv's parameters and function; on CPU its patch form where the map is small.
      conv = patch_conv.Conv(features, (kernel, kernel), strides=(stride, stride),
                             kernel_init=conv_init, dtype=self.dtype)
      x = self._layer(conv, x, train)
      if self.batch_norm and i > 0:
        x = nn.BatchNorm(use_running_average=not train, momentum=self.batch_norm_momentum,
                         epsilon=self.batch_norm_epsilon, dtype=self.dtype,
                         axis_name=self.axis_name)(x)
      x = nn.leaky_relu(x, self.leaky_relu_slope)
      if pool is not None and pool > 1:
        x = nn.max_pool(x, (pool, pool), strides=(pool, pool), padding="SAME")
      if self.dropout_rate > 0:
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    x = x.reshape((x.shape[0], -1))
    for features in self.hidden_features:
      x = self._layer(nn.Dense(features, kernel_init=kernel_init, dtype=self.dtype), x, train)
      x = nn.leaky_relu(x, self.leaky_relu_slope)
    logit_layer = lambda h: self._layer(nn.Dense(1, kernel_init=kernel_init, dtype=self.dtype),
                                        h, train)
    return projection_logit(logit_layer, x, labels, self.num_classes)
