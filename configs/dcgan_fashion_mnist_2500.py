"""Small data: the DCGAN of `configs/dcgan_fashion_mnist.py` on a fixed 2,500-image subset of
Fashion-MNIST, the setting of the augmentation and R1 comparison (docs/results.md).

    python main.py --config=configs/dcgan_fashion_mnist_2500.py --workdir=runs/fm2500/none \
        --config.num_seeds=3
    # the same with --config.augment.method=diffaugment, --config.augment.method=ada, or
    # --config.r1_gamma=1 --config.regularization_interval=16 (workdirs .../diffaugment, ...)

The 2,500 training images (`config.data.subset_size`, 250 per class on average) are the same for
every seed and every variant; the evaluation compares 10,000 samples with 10,000 held-out test
images (FD, KID, precision/recall, density/coverage, classes covered). At batch 64 D sees each
training image every 39 steps, 256 times in 10,000 steps: with 24 times fewer images than the
full split it can memorise them, and G stops improving (Karras et al. 2020, Figure 1; Zhao et al.
2020). Checkpoints every 500 steps are all kept, so D's outputs on training and held-out images
can be followed over the run afterwards.
"""

from configs import dcgan_fashion_mnist


def get_config():
  """The DCGAN on 2,500 Fashion-MNIST training images; no augmentation (see above for the rest)."""
  config = dcgan_fashion_mnist.get_config()
  # Train on this many images of the train split, the same for every seed.
  config.data.subset_size = 2_500
  # Number of generator updates (256 epochs of the subset).
  config.num_train_steps = 10_000
  # Steps between evaluations against the held-out test images.
  config.eval_every_steps = 2_500
  # Steps between checkpoints, and how many are kept: all of them.
  config.checkpoint_every_steps = 500
  config.keep_checkpoints = 20
  return config
