"""The ring of 8 Gaussians, the 2-D mode-collapse benchmark of VEEGAN and PacGAN.

    python main.py --config=configs/toy2d_ring8.py --workdir=runs/toy2d_ring8
    python main.py --config=configs/toy2d_ring8.py --workdir=runs/toy2d_ring8_pac4 --config.pack=4

Data as in PacGAN's code (Lin et al. 2018): 8 Gaussians of std 0.01 on a circle of radius 1.
Networks as the PacGAN paper describes its 2-D experiments: G a 4-layer MLP of 400 ReLU units
with BatchNorm on 2-D Gaussian noise; D 3 linear-maxout layers of 200 units (5 pieces), no
BatchNorm. Evaluated on 2,500 samples: modes captured (of 8) and the share of high-quality
samples (within 3 std of a centre). Published: GAN 1.0 mode (VEEGAN, Table 1), PacGAN4 7.8
modes and 98.6% high quality (PacGAN, Table 1). Our runs (fewer steps than the papers, CPU):
docs/results.md.
"""

from configs import mlp_fashion_mnist


def get_config():
  """Vanilla GAN (BCE, non-saturating G loss) on the ring of 8; pack=4 makes it PacGAN4."""
  config = mlp_fashion_mnist.get_config()

  config.data.name = "toy2d"
  config.data.source = "toy2d"
  config.data.toy2d.layout = "ring"
  config.data.toy2d.num_modes = 8
  # PacGAN's ring: radius 1, std 0.01 (gan_jax/evaluation/mixtures.py uses the same).
  config.data.toy2d.radius = 1.0
  config.data.toy2d.std = 0.01

  # 2-D noise, as in the papers.
  config.model.latent_dim = 2
  config.model.generator_features = (400, 400, 400, 400)
  config.model.generator_activation = "relu"
  # Points in the plane: no squashing output.
  config.model.generator_output_activation = "linear"
  config.model.discriminator_features = (200, 200, 200)
  config.model.discriminator_maxout_pieces = 5
  # PyTorch/TensorFlow BatchNorm defaults (the article's Keras 0.8 / 1e-3 is for its images).
  config.model.batch_norm_momentum = 0.9
  config.model.batch_norm_epsilon = 1e-5

  config.optimizer.generator_learning_rate = 1e-4
  config.optimizer.discriminator_learning_rate = 1e-4
  config.optimizer.b1 = 0.8
  config.optimizer.b2 = 0.999

  config.batch_size = 100
  config.num_train_steps = 5_000
  config.log_every_steps = 500
  config.sample_every_steps = 500
  # Points in each scatter plot (samples/step_XXXXXX.png).
  config.num_sample_images = 1_000
  config.checkpoint_every_steps = 1_000
  # Modes and high-quality share on 2,500 samples, at the end.
  config.eval_every_steps = 5_000
  return config
