"""Load a trained run's generator and explore its latent space from a script: samples, a
spherical interpolation, and class-based latent arithmetic (docs/api.md).

    python main.py --config=configs/default.py --workdir=runs/default     # a run to explore
    python examples/latent_tools.py --workdir=runs/default --out_dir=latent_tools
    python examples/latent_tools.py --workdir=runs/default \
        --plus=Sneaker --minus=Sandal --base="Ankle boot"

Writes samples.png, interpolation.png and arithmetic.png under --out_dir. The arithmetic is
mean(z of --plus) - mean(z of --minus) + mean(z of --base), each mean over the samples the
evaluation's Fashion-MNIST (or MNIST) classifier is most sure of.
"""

import argparse
import os

import numpy as np

from gan_jax import images, sampling


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True, help="A training run (main.py --workdir).")
  parser.add_argument("--out_dir", default="latent_tools")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--plus", default="Sneaker", help="Class whose direction is added.")
  parser.add_argument("--minus", default="Sandal", help="Class whose direction is removed.")
  parser.add_argument("--base", default="Ankle boot", help="Class the direction is applied to.")
  parser.add_argument("--per_class", type=int, default=3, help="Samples averaged per class.")
  parser.add_argument("--pool", type=int, default=1000, help="Samples classified to find them.")
  return parser.parse_args()


def main():
  args = parse_args()
  os.makedirs(args.out_dir, exist_ok=True)
  generator = sampling.load_generator(args.workdir)  # Newest checkpoint; EMA weights if kept.
  print(f"{args.workdir}: step {generator.step}, latent_dim {generator.latent_dim}, "
        f"{'EMA' if generator.uses_ema else 'trained'} weights")
  save = lambda picture, name: images.save_png(picture, os.path.join(args.out_dir, name))

  # 1. Samples 0..15 of the seed (sample i of a seed always has the same latent).
  save(images.make_grid(sampling.sample(generator, 16, seed=args.seed)), "samples.png")

  # 2. Samples 0 -> 1 along the great circle, 8 steps.
  z = generator.latents(args.seed, [0, 1])
  path = sampling.interpolate(z[0], z[1], 8, method="slerp")
  walk = sampling.to_uint8(generator, sampling.generate(generator, path))
  save(images.make_grid(walk, num_rows=1), "interpolation.png")

  # 3. Class arithmetic: find confident samples of each class, average, add and subtract.
  dataset = generator.config.data.name
  names = sampling.class_names(dataset)
  classes, probabilities = sampling.classify_samples(generator, dataset, args.pool,
                                                     seed=args.seed)
  print("classes of the first %d samples: %s" % (args.pool, ", ".join(
      f"{name} {count}" for name, count in zip(names, np.bincount(classes, minlength=10)))))
  rows, term_latents = [], []
  for sign, name in ((1, args.plus), (-1, args.minus), (1, args.base)):
    indices, p = sampling.most_confident(classes, probabilities, names.index(name),
                                         args.per_class)
    print(f"{'+' if sign > 0 else '-'} {name}: samples {indices.tolist()} "
          f"(p = {np.round(p, 2).tolist()})")
    latents = generator.latents(args.seed, indices)
    term_latents.append((sign, latents))
    rows.append(list(sampling.to_uint8(generator, sampling.generate(generator, latents))))
  result = sampling.latent_arithmetic(term_latents)
  neighbours = sampling.variations(result, args.per_class, noise=0.25, seed=args.seed)
  rows.append(list(sampling.to_uint8(generator, sampling.generate(generator, neighbours))))
  result_classes, _ = sampling.predict_classes(
      dataset, sampling.generate(generator, neighbours), generator.value_range)
  print(f"= classified as: {[names[c] for c in result_classes]}")
  save(images.labelled_rows(rows, ["+", "-", "+", "="]), "arithmetic.png")
  print(f"wrote samples.png, interpolation.png, arithmetic.png in {args.out_dir}")


if __name__ == "__main__":
  main()
