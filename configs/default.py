"""The demo: the article's MLP GAN on Fashion-MNIST, short enough for a few minutes on a laptop.

    python main.py --config=configs/default.py --workdir=runs/default   (what `make demo` runs)

5,000 steps of batch 64 (about 3 minutes on a 2-core CPU): recognisable shirts, trousers and
shoes; `configs/mlp_fashion_mnist.py` is the article's full 15,000-step run.
"""

from configs import mlp_fashion_mnist


def get_config():
  config = mlp_fashion_mnist.get_config()
  config.num_train_steps = 5_000
  return config
