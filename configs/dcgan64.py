"""The DCGAN of Radford et al. (2015) at 64x64x3, for CPU/GPU benchmarks and 64x64 runs.

    python main.py --config=configs/dcgan64.py --workdir=runs/dcgan64

"Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks":
G projects z (100) to 4x4x1024 and up-samples 4 -> 8 -> 16 -> 32 -> 64 with stride-2
transposed convolutions (512, 256, 128 channels, then 3), BatchNorm and ReLU, tanh output; D is
the mirror image (128, 256, 512, 1024 channels, stride-2 convolutions, BatchNorm on all but the
first, leaky ReLU 0.2), then one logit. 4x4 kernels, weights from N(0, 0.02), Adam(2e-4,
b1 0.5), batch 128. Trained here on TFDS rock_paper_scissors resized to 64x64 (2,520 images,
a small download); any 64x64 RGB dataset fits. Parameter counts: docs/models.md.
"""

from configs import dcgan_fashion_mnist


def get_config():
  """Radford et al.'s 64x64 DCGAN."""
  config = dcgan_fashion_mnist.get_config()
  # TFDS dataset, split and square size the images are resized to.
  config.data.name = "rock_paper_scissors"
  config.data.split = "train"
  config.data.image_size = 64

  # G: 4x4x1024 projection, then 512, 256, 128 channels, each up-sampling by 2 (the RGB output
  # layer up-samples the last time: 4 -> 64).
  config.model.generator_features = (1024, 512, 256, 128)
  config.model.generator_kernel_sizes = (4, 4, 4, 4)
  config.model.generator_activation = "relu"
  config.model.batch_norm_after_activation = False
  # D: stride-2 4x4 convolutions 64 -> 32 -> 16 -> 8 -> 4, then the logit.
  config.model.discriminator_features = (128, 256, 512, 1024)
  config.model.discriminator_kernel_sizes = (4, 4, 4, 4)
  config.model.dropout_rate = 0.0
  config.model.discriminator_batch_norm = True
  config.model.leaky_relu_slope = 0.2
  config.model.init_std = 0.02

  config.optimizer.name = "adam"
  config.optimizer.generator_learning_rate = 2e-4
  config.optimizer.discriminator_learning_rate = 2e-4
  config.optimizer.b1 = 0.5
  config.optimizer.b2 = 0.999

  config.batch_size = 128
  config.num_train_steps = 20_000
  config.sample_every_steps = 500
  config.checkpoint_every_steps = 1_000
  return config
