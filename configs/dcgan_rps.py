"""Article 004: a DCGAN on Rock-Paper-Scissors at the full 300x300x3 resolution.

    python main.py --config=configs/dcgan_rps.py --workdir=runs/dcgan_rps

TFDS `rock_paper_scissors` train split (2,520 CGI hands, 300x300 RGB). The networks follow the
article's Keras notebook layer by layer:

  G: z (512) -> 5x5x512 -> x5 25x25x128 -> x3 75x75x32 -> x2 150x150x16 -> x2 300x300x8
     -> 300x300x3; every up-sampling layer a transposed convolution + leaky ReLU(0.1) +
     BatchNorm, followed by a 3x3/5x5 convolution + leaky ReLU of the same width.
  D: five blocks of 3x3/5x5 convolution + leaky ReLU(0.1) + max-pooling (2, 2, 3, 5, 5:
     300 -> 150 -> 75 -> 25 -> 5 -> 1) + dropout 0.2, then Dense 32 and the logit.

BCE with the non-saturating G loss, separate Adam(1e-4) optimizers, batch 32, a fixed-seed 4x4
sample grid every epoch (2,520 / 32 = 78 steps) and the training GIF at the end; 15,750 steps =
200 epochs (article: "acceptable results after about 100 epochs", its figure after ~200).
Deliberate differences from the notebook: tanh output with pixels in [-1, 1] (the notebook used a
sigmoid and [0, 1]); BatchNorm also after the last up-sampling layer (+32 numbers); dropout after
every D block (the notebook skips the first and last: no effect on the counts); both networks run
in training mode in both updates. Parameter counts (docs/models.md, asserted in
tests/test_models.py): G 15,214,315 (15,212,923 trainable), D 1,763,921 (notebook: 15,214,283 /
15,212,907 and 1,763,921).

Small data. 2,520 images are few for a 1.76M-parameter D: it sees each image every 78 steps, 200
times over the run, and can memorise them, after which G stops improving (article 004 asks for
"augmentation" and "other losses"). What this data needs, all options of this config:

  * augment every image D sees, real and generated, in both players' updates
    (docs/models.md, "Augmentation and R1/R2 for small data"): ADA,
    `--config.augment.method=ada`, whose p rises only as far as D overfits (Karras et al. 2020
    train StyleGAN2 on 1,336 to 5,000 images this way; RGB, so its hue and saturation apply;
    x-flips and 90° rotations do not leak into the samples while p stays below ~0.8), or
    DiffAugment, `--config.augment.method=diffaugment` (colour, translation by up to 37 pixels,
    cutout of a 150x150 square; Zhao et al. 2020 train on 100 images with it);
  * R1 on the real images, lazily: StyleGAN2-ADA's heuristic γ = 0.0002 · 300² / 32 = 0.56
    (its train.py, cfg "auto"), every 16 steps: `--config.r1_gamma=0.56
    --config.regularization_interval=16` (this D has no BatchNorm, so R1 applies);
  * the evaluation against the 372 held-out test images needs Inception weights
    (`--config.evaluation.inception_weights`, docs/evaluation.md).

    python main.py --config=configs/dcgan_rps.py --workdir=runs/dcgan_rps_ada \
        --config.augment.method=ada --config.r1_gamma=0.56 --config.regularization_interval=16

Not measured at this size yet; the same options are measured on 2,500 Fashion-MNIST images
(`configs/dcgan_fashion_mnist_2500.py`, docs/results.md).
"""

from configs import dcgan_fashion_mnist


def get_config():
  """Article 004's setting."""
  config = dcgan_fashion_mnist.get_config()
  # TFDS dataset, split, square image size (300 = native) and pixel range (tanh output).
  config.data.name = "rock_paper_scissors"
  config.data.split = "train"
  config.data.image_size = 300
  config.data.value_range = (-1.0, 1.0)

  # Size of the latent vector (the notebook's 1x1x512 noise).
  config.model.latent_dim = 512
  # G: 5x5x512 projection, then 128, 32, 16, 8 channels up-sampling by 5, 3, 2, 2; the RGB
  # output layer keeps 300x300 (stride 1). 5 * 5 * 3 * 2 * 2 = 300 exactly: no crop.
  config.model.generator_features = (512, 128, 32, 16, 8)
  config.model.generator_strides = (5, 3, 2, 2, 1)
  config.model.generator_kernel_sizes = (5, 3, 3, 3, 3)
  # G: after the projection and each up-sampling, a stride-1 convolution of the same width.
  config.model.generator_extra_convs = True
  config.model.generator_activation = "leaky_relu"
  # G: transposed conv -> leaky ReLU -> BatchNorm, as in the notebook.
  config.model.batch_norm_after_activation = True
  # D: five conv blocks with stride 1, max-pooling does the down-sampling.
  config.model.discriminator_features = (8, 16, 32, 128, 512)
  config.model.discriminator_strides = (1, 1, 1, 1, 1)
  config.model.discriminator_kernel_sizes = (3, 3, 3, 5, 5)
  config.model.discriminator_pool_sizes = (2, 2, 3, 5, 5)
  config.model.discriminator_hidden_features = (32,)
  config.model.dropout_rate = 0.2
  config.model.discriminator_batch_norm = False
  # The notebook's LeakyReLU(alpha=0.1).
  config.model.leaky_relu_slope = 0.1
  # Keras' BatchNormalization defaults (momentum 0.99, epsilon 1e-3) and initialisers.
  config.model.batch_norm_momentum = 0.99
  config.model.batch_norm_epsilon = 1e-3
  config.model.init_std = None

  # Separate Adam(1e-4) optimizers with Keras' default betas.
  config.optimizer.name = "adam"
  config.optimizer.generator_learning_rate = 1e-4
  config.optimizer.discriminator_learning_rate = 1e-4
  config.optimizer.b1 = 0.9
  config.optimizer.b2 = 0.999

  config.loss = "bce"
  config.generator_loss = "non_saturating"
  config.n_discriminator_steps = 1

  # Global batch size.
  config.batch_size = 32
  # 200 epochs of 2,520 images.
  config.num_train_steps = 15_750
  # One fixed-seed grid per epoch (2,520 // 32 steps), 4x4 as in the article.
  config.sample_every_steps = 78
  config.num_sample_images = 16
  config.log_every_steps = 78
  # Every 10 epochs.
  config.checkpoint_every_steps = 780
  return config
