"""Article 000: WGAN with weight clipping on Food-101 at 64x64 RGB ("a cookbook of synthetic food").

    python main.py --config=configs/wgan_food101.py --workdir=runs/wgan_food101

TFDS `food101` train split (75,750 photos) resized to 64x64. The WGAN paper's setting (Arjovsky
et al. 2017): a DCGAN generator and critic with 64..512 channels (the authors' code), the
Wasserstein loss, critic weights clipped to [-0.01, 0.01], n_critic = 5, RMSProp(5e-5), batch 64.
The article trained for 200 passes over the data (20 hours on a K80); 47,000 generator steps
of 5 x 64 real images each are 200 epochs. `train/critic_loss` (minus the Wasserstein
estimate) should track sample quality.
"""

from configs import dcgan64


def get_config():
  """WGAN on Food-101 at 64x64."""
  config = dcgan64.get_config()
  # TFDS dataset, split and square size the photos are resized to.
  config.data.name = "food101"
  config.data.split = "train"
  config.data.image_size = 64

  # G: 4x4x512 projection, then 256, 128, 64 channels, x2 each, RGB output x2 (4 -> 64).
  config.model.generator_features = (512, 256, 128, 64)
  # Critic: 64 -> 32 -> 16 -> 8 -> 4 with 64, 128, 256, 512 channels, BatchNorm after the first.
  config.model.discriminator_features = (64, 128, 256, 512)
  config.model.discriminator_batch_norm = True

  config.loss = "wasserstein"
  # Critic weights kept in [-c, c].
  config.discriminator_weight_clip = 0.01
  # n_critic.
  config.n_discriminator_steps = 5
  config.optimizer.name = "rmsprop"
  config.optimizer.generator_learning_rate = 5e-5
  config.optimizer.discriminator_learning_rate = 5e-5
  # RMSProp's squared-gradient decay (PyTorch's default, used by the WGAN authors).
  config.optimizer.decay = 0.99

  config.batch_size = 64
  # About 200 epochs of 75,750 images at 5 x 64 real images per generator step.
  config.num_train_steps = 47_000
  config.sample_every_steps = 500
  config.checkpoint_every_steps = 2_000
  return config
