"""The tiny run every test builds on: the article's MLP GAN at small widths, a few steps.

    python main.py --config=configs/test.py --workdir=/tmp/test_run    (about 20 s on a laptop)

Six steps of batch 16 on Fashion-MNIST with side work every few steps (logs every 2, samples
and checkpoints every 3), evaluation off (tests that evaluate turn it on).
"""

from configs import mlp_fashion_mnist


def get_config():
  config = mlp_fashion_mnist.get_config()
  config.model.generator_features = (32, 64)
  config.model.discriminator_features = (64, 32)
  config.batch_size = 16
  config.num_train_steps = 6
  config.log_every_steps = 2
  config.sample_every_steps = 3
  config.checkpoint_every_steps = 3
  config.num_sample_images = 16
  config.eval_every_steps = 0
  return config
