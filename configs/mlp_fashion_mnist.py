"""The MLP GAN of the MNIST article (seeds/001), trained on Fashion-MNIST as the article does.

    python main.py --config=configs/mlp_fashion_mnist.py --workdir=runs/mlp_fashion_mnist

15,000 steps of batch 64 (article: "realistic looking images after 15k iterations"); on a 2-core
CPU this takes about 8 minutes and gives grainy but recognisable clothes (docs/results.md).
"""

import ml_collections

from configs import data_defaults


def get_config():
  """Article 001's setting: fully connected G and D, BCE, Adam(2e-4, b1=0.5), batch 64."""
  config = ml_collections.ConfigDict()

  # Data source and transformations (every field is explained in configs/data_defaults.py):
  # 28x28x1 Fashion-MNIST in [0, 1] for the MLP's sigmoid output.
  config.data = data_defaults.data_config("fashion_mnist", value_range=(0.0, 1.0))

  config.model = ml_collections.ConfigDict()
  # Model family (gan_jax/models/registry.py).
  config.model.name = "mlp"
  # Size of the latent vector z.
  config.model.latent_dim = 100
  # Prior of z: "normal" N(0, I) or "uniform" U(-1, 1) (DCGAN-tensorflow, PacGAN's Stacked MNIST).
  config.model.latent_distribution = "normal"
  # Widths of the generator's hidden Dense layers (article: 256, 512, 1024).
  config.model.generator_features = (256, 512, 1024)
  # Widths of the discriminator's hidden Dense layers (article: 512, 256).
  config.model.discriminator_features = (512, 256)
  # Negative slope of every LeakyReLU.
  config.model.leaky_relu_slope = 0.2
  # BatchNorm moving-average momentum and epsilon (the article's Keras values).
  config.model.batch_norm_momentum = 0.8
  config.model.batch_norm_epsilon = 1e-3
  # G's hidden activation: "leaky_relu" (article) or "relu".
  config.model.generator_activation = "leaky_relu"
  # G's output: "sigmoid" (pixels in [0, 1]), "tanh" ([-1, 1]) or "linear" (2-D points).
  config.model.generator_output_activation = "sigmoid"
  # D's hidden units: 1 = Dense + LeakyReLU (article); k > 1 = linear maxout over k pieces.
  config.model.discriminator_maxout_pieces = 1
  # G: BatchNorm after the activation (article's Keras code) or before it (False: PacGAN).
  config.model.batch_norm_after_activation = True
  # G: biases in the hidden Dense layers (PacGAN's G has none; BatchNorm's shift follows).
  config.model.generator_hidden_bias = True
  # Standard deviation of N(0, std) kernel initialisation of G and D (PacGAN: 0.02); None:
  # LeCun normal (Flax's default, which the article's Keras glorot_uniform is close to).
  config.model.init_std = ml_collections.config_dict.placeholder(float)

  config.optimizer = ml_collections.ConfigDict()
  # Separate optimizers of this kind for G and D.
  config.optimizer.name = "adam"
  config.optimizer.generator_learning_rate = 2e-4
  config.optimizer.discriminator_learning_rate = 2e-4
  # Adam's decay rates (b1 = 0.5 as in DCGAN, Radford et al. 2015).
  config.optimizer.b1 = 0.5
  config.optimizer.b2 = 0.999

  # Adversarial loss: "bce" (the articles' GAN), "wasserstein", "hinge" or "least_squares".
  config.loss = "bce"
  # For loss "bce": "non_saturating" (-log D(G(z)), the default) or "minimax" (log(1 - D(G(z)))).
  config.generator_loss = "non_saturating"
  # Weight of the WGAN-GP gradient penalty in D's loss (0 = off; needs D without BatchNorm).
  config.gradient_penalty_weight = 0.0
  # R1 and R2 (Mescheder et al. 2018): γ of the penalty γ/2 · E‖∇D(x)‖² on real (r1) and
  # generated (r2) images in D's loss, with any loss (0 = off; needs D without BatchNorm).
  config.r1_gamma = 0.0
  config.r2_gamma = 0.0
  # R1/R2 every this many steps, scaled by it (StyleGAN2's lazy regularization: 16; 1 = always).
  config.regularization_interval = 1
  # WGAN weight clipping: D's parameters kept in [-c, c] after every update (None = off).
  config.discriminator_weight_clip = ml_collections.config_dict.placeholder(float)
  # Discriminator updates per generator update (each on its own real batch).
  config.n_discriminator_steps = 1
  # Generator updates after the discriminator's in each step (PacGAN's Stacked MNIST code: 2).
  config.n_generator_steps = 1
  # Latents of the generator's updates: "fresh" (a new draw per update) or "discriminator" (the
  # batch the step's discriminator update generated, reused by every generator update).
  config.generator_latents = "fresh"
  # PacGAN (Lin et al. 2018): D judges `pack` samples at once, joined along channels (1 = off).
  config.pack = 1
  # What batch_size counts when pack > 1: "samples" (batch_size samples form batch_size / pack
  # inputs of D; the per-device batch must be divisible by pack) or "inputs" (PacGAN's code:
  # batch_size inputs of D, pack x batch_size samples drawn per update, G run once per pack slot).
  config.pack_batch = "samples"
  # Exponential moving average of the generator's weights, updated after every generator update
  # with this decay (e.g. 0.999) and used for sample grids, evaluation and `gan_jax.generate`;
  # None or 0 = off (the articles train without one).
  config.ema_decay = ml_collections.config_dict.placeholder(float)
  # Class-conditional GAN on the data's labels: label embedding appended to z in G, projection
  # discriminator (docs/models.md); sample grids get one row per class.
  config.conditional = False

  # Augmentation of every image D sees, real and generated, in both players' updates, for small
  # data sets (gan_jax/augment.py; docs/models.md, "Augmentation and R1/R2 for small data").
  config.augment = ml_collections.ConfigDict()
  # "none", "diffaugment" (Zhao et al. 2020: fixed policies on every image) or "ada" (Karras et
  # al. 2020: each transformation with probability p, p following D's overfitting).
  config.augment.method = "none"
  # DiffAugment's policies, comma-separated: "color", "translation", "cutout".
  config.augment.diffaugment_policy = "color,translation,cutout"
  # ADA's transformations, comma-separated: the groups "blit" (xflip, rotate90, xint) and
  # "color" (brightness, contrast, lumaflip, hue, saturation), or single ones.
  config.augment.ada_pipeline = "blit,color"
  # ADA's initial probability p of each transformation.
  config.augment.ada_p = 0.0
  # ADA's target for r_t = E[sign(D(x_real))] over each interval (paper: 0.6).
  config.augment.ada_target = 0.6
  # Steps between two adjustments of p (paper: 4); 0: p stays at ada_p.
  config.augment.ada_interval = 4
  # Adjustment speed: thousands of real images over which p can move by 1 (paper: 500).
  config.augment.ada_kimg = 500.0

  # Compute dtype: "float32" or "bfloat16" (mixed precision: bf16 layers, float32 parameters,
  # optimizer states, BatchNorm statistics and losses; docs/performance.md).
  config.dtype = "float32"
  # Train steps per jitted call (lax.scan over that many batches; fewer host round trips). The
  # log, sample, checkpoint and eval intervals must be multiples of it.
  config.steps_per_dispatch = 1
  # Order of the two players' updates in a step: "alternating" (D, then G on a fresh generator
  # forward; the articles), "shared_forward" (one generator forward for both, PyTorch's DCGAN
  # example: D learns on the detached fakes, then G backpropagates through the same fakes
  # against the updated D) or "simultaneous" (both gradients from one forward, applied at once:
  # ALI's and PacGAN's code). The last two need n_discriminator_steps=1 (gan_jax/train_step.py).
  config.update_order = "alternating"
  # Global batch size (images per discriminator update), split over all devices.
  config.batch_size = 64
  # Number of generator updates.
  config.num_train_steps = 15_000
  # Steps between scalar summaries (averaged over the interval).
  config.log_every_steps = 100
  # Steps between fixed-noise sample grids (samples/step_XXXXXX.png); also written at the end.
  config.sample_every_steps = 500
  # Number of fixed-noise images in each grid (8x8).
  config.num_sample_images = 64
  # Steps between evaluations (FD, KID, precision/recall, density/coverage, class coverage on the
  # shipped domain classifier: docs/evaluation.md); also at the end. 0 = never.
  config.eval_every_steps = 5_000
  config.evaluation = ml_collections.ConfigDict()
  # Generated samples per evaluation (None: 10,000; 26,000 Stacked MNIST; 2,500 2-D mixtures).
  config.evaluation.num_samples = ml_collections.config_dict.placeholder(int)
  # Real reference images (a seeded subset of the test split, else of the train split).
  config.evaluation.num_reference = 10_000
  # "test" or "train"; None: test where available.
  config.evaluation.reference_split = ml_collections.config_dict.placeholder(str)
  # Inception-v3 weights (.npz, docs/evaluation.md) for FID on datasets without a classifier.
  config.evaluation.inception_weights = ml_collections.config_dict.placeholder(str)
  # Steps between checkpoints; one is also written at the end.
  config.checkpoint_every_steps = 1_000
  # Number of newest checkpoints kept.
  config.keep_checkpoints = 3
  # Several processes (hosts): where the coordinator (process 0) listens, "host:port", how many
  # processes and which one this is. None reads JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and
  # JAX_PROCESS_ID; all unset means a single process (gan_jax/distributed.py).
  config.distributed = ml_collections.ConfigDict()
  config.distributed.coordinator_address = ml_collections.config_dict.placeholder(str)
  config.distributed.num_processes = ml_collections.config_dict.placeholder(int)
  config.distributed.process_id = ml_collections.config_dict.placeholder(int)
  # Let JAX find the cluster itself (Cloud TPU pods, SLURM, Open MPI, Kubernetes).
  config.distributed.auto_detect = False
  # Seconds to wait for every process to join.
  config.distributed.initialization_timeout_s = 300
  # On a NaN/Inf loss or parameter: "stop" (name the step; the newest checkpoint is the last
  # good state) or "skip" (leave the state unchanged for that step and count it).
  config.nonfinite_policy = "stop"
  # Seed of initialisation, noise and data order.
  config.seed = 0
  # Number of GANs trained side by side in one jitted step (K >= 1): GAN k is the run with seed
  # config.seed + k (its own init, noise and data order); evaluations report mean ± std over the
  # K (docs/api.md, "Many seeds in one run"). K > 1 costs K x the memory and compute of one.
  config.num_seeds = 1
  return config
