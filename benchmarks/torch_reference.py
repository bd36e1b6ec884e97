"""The benchmark's networks and train step in PyTorch, written the usual PyTorch way.

Used by `benchmarks/train_step.py --compare=torch` (same process, same fixed batch, repeats
interleaved with the JAX rows). For each `--model` of that script the same layers as
`gan_jax/models` (shapes, BatchNorm placement, activations, dropout, pooling, maxout; parameter
counts match), and the same step: one D update on the real batch and a fresh generated batch (D
called on each separately, G's BatchNorm in training mode), then one G update on a fresh
generated batch (non-saturating BCE), separate Adam optimizers; for toy2d PacGAN's step (both
gradients from one forward, applied together, G once per pack slot). fp32, or bf16 through `torch.autocast` (weights
and Adam states stay fp32, as in the JAX step with `config.dtype="bfloat16"`); convolutional
models in channels_last memory format; optionally `torch.compile`d (G and D modules).

The plain way on purpose: concatenating D's two batches, freezing D for G's backward and
foreach/fused Adam were worth at most ~10% on the 2-core CPU for the MLP.
"""

import math
import time

import torch
from torch import nn

from benchmarks import train_step as benchmark


def set_threads(num_threads):
  torch.set_num_threads(num_threads)


def _same_padding(kernel, stride):
  """(padding, output_padding) making ConvTranspose2d's output exactly input * stride (Flax SAME)."""
  padding = max(math.ceil((kernel - stride) / 2), 0)
  return padding, 2 * padding - (kernel - stride)


def _activation(name, slope):
  return nn.ReLU() if name == "relu" else nn.LeakyReLU(slope)


def _batch_norm(num, fields):
  # Flax's momentum is the decay of the moving average; PyTorch's the weight of the new batch.
  return nn.BatchNorm2d(num, eps=fields.batch_norm_epsilon,
                        momentum=1.0 - fields.batch_norm_momentum)


def mlp_networks(image_shape, fields):
  layers, width = [], fields.latent_dim
  for features in fields.generator_features:
    layers += [nn.Linear(width, features), nn.LeakyReLU(fields.leaky_relu_slope),
               nn.BatchNorm1d(features, eps=fields.batch_norm_epsilon,
                              momentum=1.0 - fields.batch_norm_momentum)]
    width = features
  pixels = math.prod(image_shape)
  generator = nn.Sequential(*layers, nn.Linear(width, pixels), nn.Sigmoid(),
                            nn.Unflatten(1, (image_shape[2], *image_shape[:2])))
  layers, width = [nn.Flatten()], pixels
  for features in fields.discriminator_features:
    layers += [nn.Linear(width, features), nn.LeakyReLU(fields.leaky_relu_slope)]
    width = features
  discriminator = nn.Sequential(*layers, nn.Linear(width, 1))
  return generator, discriminator


class _Maxout(nn.Module):
  """A linear layer to pieces x features units, the max over the pieces (Goodfellow et al. 2013)."""

  def __init__(self, width, features, pieces):
    super().__init__()
    self.linear, self.features, self.pieces = nn.Linear(width, features * pieces), features, pieces

  def forward(self, x):
    return self.linear(x).view(x.shape[0], self.features, self.pieces).amax(-1)


def points_networks(fields, pack):
  """PacGAN's 2-D networks (`gan_jax.models.mlp` with its options): G Linear without bias ->
  BatchNorm -> ReLU per hidden layer, a linear output; D maxout layers on `pack` points."""
  layers, width = [], fields.latent_dim
  for features in fields.generator_features:
    layers += [nn.Linear(width, features, bias=False),
               nn.BatchNorm1d(features, eps=fields.batch_norm_epsilon,
                              momentum=1.0 - fields.batch_norm_momentum), nn.ReLU()]
    width = features
  generator = nn.Sequential(*layers, nn.Linear(width, 2))
  layers, width = [], 2 * pack
  for features in fields.discriminator_features:
    layers.append(_Maxout(width, features, fields.discriminator_maxout_pieces))
    width = features
  return generator, nn.Sequential(*layers, nn.Linear(width, 1))


def dcgan_generator(image_shape, fields):
  """`gan_jax.models.dcgan.DCGANGenerator` in PyTorch (NCHW input z as a 1x1 map)."""
  height, _, channels = image_shape
  features = fields.generator_features
  strides = fields.generator_strides or (2,) * len(features)
  kernels = fields.generator_kernel_sizes
  kernels = (kernels,) * len(strides) if isinstance(kernels, int) else kernels
  base = math.ceil(height / math.prod(strides))

  def normalize_and_activate(num):
    norm, act = _batch_norm(num, fields), _activation(fields.generator_activation,
                                                      fields.leaky_relu_slope)
    return [act, norm] if fields.batch_norm_after_activation else [norm, act]

  def extra_conv(num, kernel):
    if not fields.generator_extra_convs:
      return []
    return [nn.Conv2d(num, num, kernel, padding="same"),
            _activation(fields.generator_activation, fields.leaky_relu_slope)]

  layers = [nn.ConvTranspose2d(fields.latent_dim, features[0], base, stride=base),
            *normalize_and_activate(features[0]), *extra_conv(features[0], kernels[0])]
  for width, out, stride, kernel in zip(features, features[1:], strides, kernels):
    padding, output_padding = _same_padding(kernel, stride)
    layers += [nn.ConvTranspose2d(width, out, kernel, stride, padding, output_padding),
               *normalize_and_activate(out), *extra_conv(out, kernel)]
  padding, output_padding = _same_padding(kernels[-1], strides[-1])
  layers += [nn.ConvTranspose2d(features[-1], channels, kernels[-1], strides[-1], padding,
                                output_padding)]
  if base * math.prod(strides) != height:
    crop = (base * math.prod(strides) - height) // 2
    layers.append(_Crop(crop, height))
  layers.append(nn.Tanh())
  return nn.Sequential(nn.Unflatten(1, (fields.latent_dim, 1, 1)), *layers)


class _Crop(nn.Module):

  def __init__(self, offset, size):
    super().__init__()
    self.offset, self.size = offset, size

  def forward(self, x):
    return x[:, :, self.offset:self.offset + self.size, self.offset:self.offset + self.size]


def dcgan_discriminator(image_shape, fields):
  """`gan_jax.models.dcgan.DCGANDiscriminator` in PyTorch (NCHW images)."""
  height, _, channels = image_shape
  num = len(fields.discriminator_features)
  strides = fields.discriminator_strides or (2,) * num
  kernels = fields.discriminator_kernel_sizes
  kernels = (kernels,) * num if isinstance(kernels, int) else kernels
  pools = fields.discriminator_pool_sizes or (None,) * num
  layers, width, size = [], channels, height
  for i, (out, stride, kernel, pool) in enumerate(
      zip(fields.discriminator_features, strides, kernels, pools)):
    # "SAME": output ceil(size / stride); PyTorch pads symmetrically, so for even kernels the
    # padding is (kernel - stride) / 2 per side, which gives the same output size.
    layers.append(nn.Conv2d(width, out, kernel, stride,
                            padding="same" if stride == 1 else (kernel - stride + 1) // 2))
    size = math.ceil(size / stride)
    if fields.discriminator_batch_norm and i > 0:
      layers.append(_batch_norm(out, fields))
    layers.append(nn.LeakyReLU(fields.leaky_relu_slope))
    if pool is not None and pool > 1:
      layers.append(nn.MaxPool2d(pool, pool, ceil_mode=True))
      size = math.ceil(size / pool)
    if fields.dropout_rate > 0:
      layers.append(nn.Dropout(fields.dropout_rate))
    width = out
  layers.append(nn.Flatten())
  width = width * size * size
  for features in fields.discriminator_hidden_features:
    layers += [nn.Linear(width, features), nn.LeakyReLU(fields.leaky_relu_slope)]
    width = features
  layers.append(nn.Linear(width, 1))
  return nn.Sequential(*layers)


def create_networks(model, pack=1):
  image_shape, fields, _ = benchmark.model_fields(model)
  if image_shape == (2,):
    return points_networks(fields, pack)
  if fields.name == "mlp":
    return mlp_networks(image_shape, fields)
  return dcgan_generator(image_shape, fields), dcgan_discriminator(image_shape, fields)


class TorchRow:
  """One GAN train step per call of `step`, eager (or torch.compile'd), fp32 or bf16 autocast."""

  def __init__(self, model, images, dtype, compile=False, pack=1):  # pylint: disable=redefined-builtin
    self.name = "torch compile" if compile else "torch eager"
    self.dtype, self.compile_requested = dtype, compile
    image_shape, fields, (learning_rate, b1, b2) = benchmark.model_fields(model)
    self.latent_dim = fields.latent_dim
    # PacGAN's 2-D step: batch_size packed inputs, G once per slot, simultaneous updates.
    self.points, self.pack = image_shape == (2,), pack
    torch.manual_seed(0)
    self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    self.generator, self.discriminator = (n.to(self.device)
                                          for n in create_networks(model, pack))
    self.channels_last = fields.name == "dcgan"
    real = torch.from_numpy(images)
    if self.points:  # Consecutive rows form one packed input, as `objectives.pack_samples`.
      real = real.reshape(-1, 2 * pack)
    else:
      real = real.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW.
    if self.channels_last:
      self.generator = self.generator.to(memory_format=torch.channels_last)
      self.discriminator = self.discriminator.to(memory_format=torch.channels_last)
      real = real.to(memory_format=torch.channels_last)
    self.real = real.to(self.device)
    self.generator_opt = torch.optim.Adam(self.generator.parameters(), learning_rate,
                                          betas=(b1, b2))
    self.discriminator_opt = torch.optim.Adam(self.discriminator.parameters(), learning_rate,
                                              betas=(b1, b2))
    self.bce = nn.BCEWithLogitsLoss()  # Mean over the batch, like gan_jax.losses.
    self.ones = torch.ones(self.real.shape[0], 1, device=self.device)
    self.zeros = torch.zeros(self.real.shape[0], 1, device=self.device)
    self.generate, self.judge = self.generator, self.discriminator
    if compile:
      self.generate, self.judge = torch.compile(self.generator), torch.compile(self.discriminator)

  def _autocast(self):
    return torch.autocast(self.device.type, dtype=torch.bfloat16,
                          enabled=self.dtype == "bfloat16")

  def step(self):
    if self.points:
      self.simultaneous_step()
      return
    num = self.real.shape[0]
    with torch.no_grad(), self._autocast():  # G's BatchNorm statistics update here too.
      fake = self.generate(torch.randn(num, self.latent_dim, device=self.device))
    with self._autocast():
      d_loss = (self.bce(self.judge(self.real).float(), self.ones)
                + self.bce(self.judge(fake).float(), self.zeros))
    self.discriminator_opt.zero_grad()
    d_loss.backward()
    self.discriminator_opt.step()

    with self._autocast():
      fake = self.generate(torch.randn(num, self.latent_dim, device=self.device))
      g_loss = self.bce(self.judge(fake).float(), self.ones)  # Non-saturating: target 1.
    self.generator_opt.zero_grad()
    g_loss.backward()
    self.generator_opt.step()

  def simultaneous_step(self):
    """Both players' gradients from one generator forward on the old parameters, applied
    together (PacGAN's `ali_algorithm`); G runs once per pack slot."""
    num = self.real.shape[0]
    fake = torch.cat([self.generate(torch.randn(num, self.latent_dim, device=self.device))
                      for _ in range(self.pack)], dim=1)
    d_loss = (self.bce(self.judge(self.real), self.ones)
              + self.bce(self.judge(fake.detach()), self.zeros))
    g_loss = self.bce(self.judge(fake), self.ones)
    d_params, g_params = list(self.discriminator.parameters()), list(self.generator.parameters())
    d_grads = torch.autograd.grad(d_loss, d_params)
    g_grads = torch.autograd.grad(g_loss, g_params)
    for params, grads in ((d_params, d_grads), (g_params, g_grads)):
      for param, grad in zip(params, grads):
        param.grad = grad
    self.discriminator_opt.step()
    self.generator_opt.step()

  def compile(self):
    """Seconds of the first step (torch.compile compiles there; eager: the first call)."""
    start = time.perf_counter()
    self.step()
    self._sync()
    return time.perf_counter() - start

  def _sync(self):
    if self.device.type == "cuda":
      torch.cuda.synchronize()

  def run(self, num_steps):
    for _ in range(num_steps):
      self.step()
    self._sync()

  def details(self):
    memory = None
    if self.device.type == "cuda":
      memory = torch.cuda.max_memory_allocated()
    return {"torch_threads": torch.get_num_threads(), "channels_last": self.channels_last,
            "autocast_bf16": self.dtype == "bfloat16", "peak_memory_bytes": memory,
            "peak_memory_kind": "cuda max_memory_allocated" if memory else None}

