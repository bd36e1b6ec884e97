"""WGAN with weight clipping (Arjovsky et al. 2017, article 000) on Fashion-MNIST, for CPU.

    python main.py --config=configs/wgan_fashion_mnist.py --workdir=runs/wgan_fashion_mnist

The small DCGAN of `configs/dcgan_fashion_mnist.py` as generator and critic (BatchNorm in the
critic, as in the paper's DCGAN critic, no dropout), trained with the paper's Algorithm 1: the
Wasserstein loss, the critic's weights clipped to [-0.01, 0.01] after every update, 5 critic
updates per generator update, RMSProp(5e-5), batch 64. `train/critic_loss` = E[D(G(z))] - E[D(x)]
is minus the critic's Wasserstein estimate; it should rise towards 0 as the samples improve.
"""

from configs import dcgan_fashion_mnist


def get_config():
  """WGAN (weight clipping) on Fashion-MNIST."""
  config = dcgan_fashion_mnist.get_config()
  config.loss = "wasserstein"
  # Critic weights kept in [-c, c] (the paper's c).
  config.discriminator_weight_clip = 0.01
  # n_critic: critic updates per generator update, each on its own real batch.
  config.n_discriminator_steps = 5

  # The critic as the paper's DCGAN critic: BatchNorm, no dropout.
  config.model.dropout_rate = 0.0
  config.model.discriminator_batch_norm = True

  # RMSProp, lr 5e-5 for both (the paper: momentum-based optimizers destabilise the critic).
  config.optimizer.name = "rmsprop"
  config.optimizer.generator_learning_rate = 5e-5
  config.optimizer.discriminator_learning_rate = 5e-5
  # RMSProp's squared-gradient decay (PyTorch's default 0.99, used by the WGAN authors).
  config.optimizer.decay = 0.99

  config.batch_size = 64
  # Generator updates (x 5 critic updates).
  config.num_train_steps = 5_000
  config.sample_every_steps = 250
  return config
