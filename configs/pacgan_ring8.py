"""PacGAN's 2-D ring experiment (Lin et al. 2018, Table 1) as its authors' code runs it.

    python main.py --config=configs/pacgan_ring8.py --workdir=runs/pacgan_ring8_gan
    python main.py --config=configs/pacgan_ring8.py --workdir=runs/pacgan_ring8_pac2 --config.pack=2

pack=1 is the table's GAN row, pack=2/3/4 its PacGAN2/3/4 rows; the paper runs 10 trials of each
(`--config.num_seeds=10` trains them in one process). Published (mean ± standard error of 10
trials): GAN 6.3 ± 0.5 modes, 98.2 ± 0.2% high quality, reverse KL 0.45 ± 0.09; PacGAN4 7.8 ±
0.1, 95.9 ± 1.4%, 0.07 ± 0.02. Ours: docs/results.md ("PacGAN Table 1").

Source: github.com/fjxmlzn/PacGAN, synthetic_data_experiments/ (read at commit 190853e):
  * 2DRing_GAN&PacGAN/config.py lines 6-7: 8 Gaussians on the unit circle, std 0.01; lines 15-36:
    400 epochs, G of 400 units, D of 200 units with 5 maxout pieces, N(0, 0.02) weights, zero
    biases, Adam lr 1e-4 and beta1 0.8, batch 100, a set of 100,000 examples, 2-D latents
    N(0, I) (`num_zmode` 1, `z_mode_r` 0, `z_mode_std` 1); lines 44-47: packings 1-4, runs 0-9.
  * 2DRing_GAN&PacGAN/pacgan_task.py (the same file as the grid's) lines 43-59: G is 4 x
    [Linear without bias -> BatchNorm -> ReLU], then a Linear output with bias (line 94);
    lines 61-90: D is 3 LinearMaxout layers and a Linear logit on 2 x pack inputs; lines
    105-108: one latent batch per pack slot; lines 123-125: no dropout is used; line 149: the
    moving statistics follow each batch at rate 0.05; lines 157-158: `ali_algorithm`.
  * PacGAN/pacgan/bricks.py lines 62-74: G runs once per slot (BatchNorm per 100 samples), the
    slots' samples are concatenated into packed inputs, D sees real and packed fake inputs as
    one batch; D minimises softplus(-D(x)) + softplus(D(G(z))), G the non-saturating loss.
  * ALI's ali/algorithms.py (github.com/IshmaelBelghazi/ALI): the gradients of both losses are
    taken from one graph and applied in one update (simultaneous).
  * PacGAN/pacgan/datasets.py lines 58-85 and streams.py lines 25-37: 100,000 points drawn once;
    each packed example takes its pack points at random with replacement from them; batches of
    100 packed examples, reshuffled every epoch (1,000 steps), so 400 epochs = 400,000 steps.
  * PacGAN/pacgan/extensions.py lines 114-175: after each epoch, 2,500 samples from fixed
    latents (BatchNorm on moving statistics); a sample is high quality within 3 std of its
    nearest centre; a mode is captured when it holds one; we report the reverse KL as log 8 minus
    the logged entropy of the high-quality samples' mode histogram (gan_jax/evaluation/mixtures.py).
  * Blocks' BatchNormalization (mila-iqia/blocks, blocks/bricks/bn.py line 131): epsilon 1e-4.

Where we differ, on purpose or by necessity:
  * Blocks' Adam adds epsilon to sqrt(v) before the bias correction (TensorFlow's form), optax
    after it; with epsilon 1e-8 the steps agree to ~1e-8 relative. Blocks' Adam took the standard
    beta1 convention on 2017-01-24 (commit aa064519), before PacGAN's code, so beta1 0.8 means
    0.8 here too.
  * Blocks keeps a moving average of the batch std; Flax of the batch variance (used as
    sqrt(var + eps)). Only sampling sees the moving statistics.
  * Evaluations every 5,000 steps, not every 1,000 (the curves in docs/results.md are dense
    enough); the random streams are JAX's, not Theano's.
"""

from configs import toy2d_ring8


def get_config():
  """PacGAN's ring of 8: GAN at pack=1, PacGANm at pack=m (4 for the paper's best row)."""
  config = toy2d_ring8.get_config()
  # A fixed set of 100,000 points, visited in epochs of 1,000 steps.
  config.data.toy2d.num_examples = 100_000

  # G: Linear (no bias) -> BatchNorm -> ReLU, four times, then a linear output with bias.
  config.model.batch_norm_after_activation = False
  config.model.generator_hidden_bias = False
  # Blocks' BatchNorm: epsilon 1e-4, moving statistics updated at rate 0.05.
  config.model.batch_norm_momentum = 0.95
  config.model.batch_norm_epsilon = 1e-4
  # N(0, 0.02) kernels in G and D, zero biases.
  config.model.init_std = 0.02

  # batch_size = 100 packed inputs of D per step: pack x 100 real and generated points.
  config.pack_batch = "inputs"
  # Both players' gradients from one forward, applied together (ali_algorithm).
  config.update_order = "simultaneous"
  config.batch_size = 100
  # 400 epochs of 1,000 batches.
  config.num_train_steps = 400_000
  config.log_every_steps = 1_000
  config.sample_every_steps = 20_000
  # Points in each scatter plot, as in the authors' figures.
  config.num_sample_images = 2_500
  config.checkpoint_every_steps = 10_000
  # Modes, high-quality share and reverse KL on 2,500 samples.
  config.eval_every_steps = 5_000
  # Ten steps per jitted call: +5% on a 2-core CPU for this small step (docs/performance.md),
  # more on accelerators; every interval above is a multiple of 10.
  config.steps_per_dispatch = 10
  return config
