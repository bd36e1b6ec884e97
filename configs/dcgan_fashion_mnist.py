"""A small DCGAN on Fashion-MNIST (28x28x1), sized for a 2-core CPU; base of the DCGAN configs.

    python main.py --config=configs/dcgan_fashion_mnist.py --workdir=runs/dcgan_fashion_mnist

The layout of the TensorFlow DCGAN tutorial that article 004 starts from, narrower: G projects z
to 7x7x64, up-samples 7 -> 14 -> 28 with 4x4 transposed convolutions, BatchNorm and leaky ReLU,
tanh output; D has two strided 4x4 convolutions with leaky ReLU and dropout. BCE, non-saturating
G loss, Adam(2e-4, b1 0.5), batch 64. Samples, curves and wall time: docs/results.md.
"""

import ml_collections

from configs import mlp_fashion_mnist


def get_config():
  """DCGAN on Fashion-MNIST; data, loss, optimizer and loop fields as in the MLP config."""
  config = mlp_fashion_mnist.get_config()
  # tanh generator: pixels scaled to [-1, 1].
  config.data.value_range = (-1.0, 1.0)

  config.model = ml_collections.ConfigDict()
  # Model family (gan_jax/models/registry.py); the fields below are gan_jax/models/dcgan.py's.
  config.model.name = "dcgan"
  # Size of the latent vector z.
  config.model.latent_dim = 100
  # Prior of z: "normal" N(0, I) or "uniform" U(-1, 1) (DCGAN-tensorflow, PacGAN's Stacked MNIST).
  config.model.latent_distribution = "normal"
  # G: channels of the projected map, then of each up-sampling layer (image channels follow).
  config.model.generator_features = (64, 32)
  # G: up-sampling factor of each layer after the projection, the output layer's last; the
  # projected map's side is ceil(image size / product) (here 7). None: 2 for every layer.
  config.model.generator_strides = ml_collections.config_dict.placeholder(tuple)
  # G: kernel side of each layer after the projection (one per entry of generator_features).
  config.model.generator_kernel_sizes = (4, 4)
  # G: a stride-1 convolution of the same width after each up-sampling (article 004's layout).
  config.model.generator_extra_convs = False
  # G: "leaky_relu" (TF tutorial, article 004) or "relu" (Radford et al.).
  config.model.generator_activation = "leaky_relu"
  # G: BatchNorm after the activation (article 004's Keras code) instead of before (Radford).
  config.model.batch_norm_after_activation = False
  # G: how stride > 1 transposed convolutions are computed; the same function and parameters:
  # "subpixel" (stride-1 conv + depth-to-space, ~4x faster forward + backward on XLA:CPU),
  # "conv_transpose" (XLA's), "auto" (subpixel on CPU, conv_transpose on GPU/TPU).
  config.model.upsampling = "auto"
  # G: project z with a Dense layer (one bias per unit: DCGAN-tensorflow) instead of a
  # transposed convolution (one bias per channel).
  config.model.generator_dense_projection = False
  # G: every layer outputs TensorFlow's size, ceil(size / strides still to come) (28: 2 -> 4 ->
  # 7 -> 14 -> 28, DCGAN-tensorflow), instead of up-sampling past the size and cropping once.
  config.model.generator_exact_layer_sizes = False
  # D: channels of each convolution block.
  config.model.discriminator_features = (32, 64)
  # D: convolution stride of each block. None: 2 for every block.
  config.model.discriminator_strides = ml_collections.config_dict.placeholder(tuple)
  # D: kernel side of each block's convolution.
  config.model.discriminator_kernel_sizes = (4, 4)
  # D: max-pooling window (= stride) after each block, e.g. (2, 2). None: no pooling.
  config.model.discriminator_pool_sizes = ml_collections.config_dict.placeholder(tuple)
  # D: widths of Dense layers between the flattened features and the logit.
  config.model.discriminator_hidden_features = ()
  # D: dropout rate after each block (0 = none).
  config.model.dropout_rate = 0.3
  # D: BatchNorm in every block but the first (Radford); must be off with a gradient penalty.
  config.model.discriminator_batch_norm = False
  # D: spectral normalisation of every layer (Miyato et al. 2018).
  config.model.spectral_norm = False
  # Negative slope of every leaky ReLU.
  config.model.leaky_relu_slope = 0.2
  # BatchNorm moving-average decay and epsilon (PyTorch's momentum 0.1 = decay 0.9).
  config.model.batch_norm_momentum = 0.9
  config.model.batch_norm_epsilon = 1e-5
  # Standard deviation of the N(0, std) kernel initialisation (Radford: 0.02); None: LeCun normal.
  config.model.init_std = 0.02
  # D: convolution kernels from N(0, init_std) truncated at 2 std (DCGAN-tensorflow's conv2d).
  config.model.discriminator_truncated_init = False

  # Steps between fixed-noise sample grids.
  config.sample_every_steps = 250
  # Number of generator updates.
  config.num_train_steps = 5_000
  # Steps between checkpoints; one is also written at the end.
  config.checkpoint_every_steps = 500
  return config
